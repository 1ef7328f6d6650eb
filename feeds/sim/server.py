"""The simulator server: Solana JSON-RPC over HTTP and PubSub over WebSocket on
127.0.0.1, backed by :class:`~feeds.sim.world.World`.

It can present itself as several endpoints (one port each, HTTP and WebSocket on the
same port) with their own latency, jitter and drop rate, and with faults for tests: a
connection that closes mid-stream, malformed JSON, wrong-size or wrong-owner accounts,
a stall (socket open, nothing sent), or an endpoint that never answers at all.

Methods: ``accountSubscribe`` (base64), ``logsSubscribe`` (``mentions`` one program),
``slotSubscribe``, ``signatureSubscribe`` and their unsubscribes; HTTP
``getMultipleAccounts`` (≤ 100 keys), ``getAccountInfo``, ``getBalance``,
``getTokenAccountBalance``, ``getSlot``, ``getBlockTime``, ``getBlockHeight``,
``getLatestBlockhash``, ``isBlockhashValid``, ``getSignatureStatuses``,
``getRecentPrioritizationFees`` (150 slots), ``getHealth``, ``getVersion``; batches.
Errors use the JSON-RPC codes a node uses.

Transactions (:mod:`feeds.sim.chain`) only when the server is asked to accept them
(``accept_transactions``, ``arbscope sim --accept-tx``): ``simulateTransaction``,
``sendTransaction``, ``requestAirdrop`` and the faucet ``simFund [owner, mint, amount]``;
a Jito block engine at ``/api/v1/bundles`` (``sendBundle``, ``getBundleStatuses``,
``getInflightBundleStatuses``, ``getTipAccounts``) and ``/api/v1/transactions``.
Otherwise they answer "does not accept transactions" and nothing can trade on the
simulator. ``simInfo`` says which.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ..wire import instructions as I
from ..wire.protocol import account_notification
from .chain import Chain, ChainError
from .world import SlotResult, World, WorldConfig

log = logging.getLogger(__name__)

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
FEE_SLOTS = 150  # a node's prioritization-fee cache (spec §5.2)
_CHAIN_METHODS = frozenset({
    "getLatestBlockhash", "getBlockHeight", "isBlockhashValid", "getBalance",
    "getTokenAccountBalance", "getSignatureStatuses", "simInfo", "simulateTransaction",
    "sendTransaction", "requestAirdrop", "simFund",
})  # fmt: skip
_TX_METHODS = frozenset({"simulateTransaction", "sendTransaction"})


@dataclass(frozen=True, slots=True)
class EndpointProfile:
    """How one simulated endpoint behaves. Rates are per message, in [0, 1]."""

    name: str = "sim"
    latency_ms: float = 20.0
    jitter_ms: float = 5.0
    drop_rate: float = 0.0
    close_after: int | None = None  # notifications per connection, then an abrupt close
    stall_after: int | None = None  # notifications per connection, then silence
    malformed_rate: float = 0.0  # a notification cut in half (not JSON)
    bad_account_rate: float = 0.0  # account data truncated, or the owner wrong
    silent: bool = False  # accepts connections and never answers
    refuse_subscriptions: bool = False  # every *Subscribe answered with a JSON-RPC error
    freeze_slot_after: int | None = None  # slots, then slotNotification repeats that slot
    # (accounts and logs go on: a node whose slot is stuck while data still flows)
    # hostile or lagging nodes (fault injection; a healthy node does none of these)
    lag_slots: int = 0  # every slot's notifications sent this many slots late
    future_after: int | None = None  # after this many notifications on a connection, once:
    future_slots: int = 1_000  # a slot and a pool's account this many slots ahead
    repoint_rate: float = 0.0  # per slot: a pool account whose mints and vaults are others
    skew_rate: float = 0.0  # a vault's balance wrong (the account decodes: plausible)
    unknown_rate: float = 0.0  # a notification under a subscription id never given


DEFAULT_PROFILES = (
    EndpointProfile("sim-fast", latency_ms=8, jitter_ms=3, drop_rate=0.002),
    EndpointProfile("sim-mid", latency_ms=25, jitter_ms=10, drop_rate=0.01),
    EndpointProfile("sim-slow", latency_ms=60, jitter_ms=30, drop_rate=0.03),
)


def default_profiles(n: int) -> list[EndpointProfile]:
    """``n`` endpoints, fastest first (the three defaults, then slower copies)."""
    out = list(DEFAULT_PROFILES[:n])
    while len(out) < n:
        k = len(out)
        out.append(
            EndpointProfile(f"sim-{k}", latency_ms=30 + 20 * k, jitter_ms=15, drop_rate=0.02)
        )
    return out


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    """Where one simulated endpoint listens."""

    name: str
    http_url: str
    ws_url: str


class RpcFault(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def _error(rid: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "error": err, "id": rid}


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[tuple[float, str]] = field(default_factory=asyncio.Queue)
    subs: dict[int, tuple[str, str]] = field(default_factory=dict)
    sent: int = 0
    lied: bool = False  # the future_after fault happened on this connection


class _Endpoint:
    """One endpoint: an aiohttp app on its own port."""

    def __init__(self, server: SimServer, profile: EndpointProfile, seed: int) -> None:
        self.server, self.profile = server, profile
        self.rng = random.Random(seed)
        self.conns: set[_Conn] = set()
        self.account_subs: dict[str, dict[tuple[_Conn, int], None]] = {}
        self.logs_subs: dict[str, dict[tuple[_Conn, int], None]] = {}
        self.slot_subs: dict[tuple[_Conn, int], None] = {}
        self.sig_subs: dict[str, dict[tuple[_Conn, int], None]] = {}
        self.next_id = 0
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.stats = {"connections": 0, "notifications": 0, "dropped": 0, "requests": 0}
        self.slots_published = 0
        self.frozen_slot: int | None = None  # the slot shown once freeze_slot_after ran out
        # set when the endpoint stops: a silent endpoint's requests wait on it (not on a
        # long sleep the server's shutdown would wait out for a minute)
        self.stopping = asyncio.Event()

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_route("*", "/", self.handle)
        app.router.add_route("*", "/api/v1/bundles", self.handle_jito)
        app.router.add_route("*", "/api/v1/transactions", self.handle_jito)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None)
        if not sockets:
            raise OSError(f"the simulator could not listen on {host}:{port}")
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self.stopping.set()
        for c in list(self.conns):
            with contextlib.suppress(Exception):
                await c.ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    # ------------------------------------------------------------ HTTP
    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.profile.silent:  # never answers; the client must time out
            await self.stopping.wait()
            raise web.HTTPServiceUnavailable()  # only once it stops: nobody waits any more
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.websocket(request)
        return await self._post(request, self.server.http_method, batches=True)

    async def handle_jito(self, request: web.Request) -> web.StreamResponse:
        """The Jito block engine (spec §5.4): bundles and single transactions."""
        if self.profile.silent:
            await self.stopping.wait()
            raise web.HTTPServiceUnavailable()
        allowed = ({"sendTransaction"} if request.path.endswith("/transactions") else
                   {"sendBundle", "getBundleStatuses", "getInflightBundleStatuses",
                    "getTipAccounts"})  # fmt: skip

        def dispatch(method: str, params: list[Any]) -> Any:
            if method not in allowed:
                raise RpcFault(METHOD_NOT_FOUND, "Method not found")
            return self.server.jito_method(method, params)

        return await self._post(request, dispatch, batches=False)

    async def _post(
        self, request: web.Request, dispatch: Callable[[str, list[Any]], Any], batches: bool
    ) -> web.StreamResponse:
        """One JSON-RPC POST (a batch too, where ``batches``) answered by ``dispatch``."""
        if request.method != "POST":
            return web.Response(status=405, text="JSON-RPC takes POST\n")
        self.stats["requests"] += 1
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response(_error(None, PARSE_ERROR, "Parse error"))
        delay = self.server.tx_delay_s
        if delay and isinstance(body, dict) and body.get("method") in _TX_METHODS:
            await asyncio.sleep(delay)  # a slow node (tests: the kill switch mid-flight)
        if isinstance(body, list) and batches:
            if not body:
                return web.json_response(_error(None, INVALID_REQUEST, "Invalid request"))
            return web.json_response([self.http_call(b, dispatch) for b in body])
        return web.json_response(self.http_call(body, dispatch))

    def http_call(
        self, req: Any, dispatch: Callable[[str, list[Any]], Any] | None = None
    ) -> dict[str, Any]:
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or "method" not in req:
            return _error(None, INVALID_REQUEST, "Invalid request")
        rid = req.get("id")
        params = req.get("params", [])
        try:
            if not isinstance(params, list):
                raise RpcFault(INVALID_PARAMS, "Invalid params: expected an array")
            result = (dispatch or self.server.http_method)(str(req["method"]), params)
        except RpcFault as f:
            return _error(rid, f.code, f.message, f.data)
        return {"jsonrpc": "2.0", "result": result, "id": rid}

    # ------------------------------------------------------------ PubSub
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20, autoping=True)
        await ws.prepare(request)
        conn = _Conn(ws)
        self.conns.add(conn)
        self.stats["connections"] += 1
        sender = asyncio.create_task(self._send_loop(conn))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                reply = self.pubsub_call(conn, msg.data)
                await conn.queue.put((0.0, json.dumps(reply)))
        finally:
            sender.cancel()
            self._drop(conn)
        return ws

    def _drop(self, conn: _Conn) -> None:
        self.conns.discard(conn)
        for table in (*self.account_subs.values(), *self.logs_subs.values(), self.slot_subs,
                      *self.sig_subs.values()):  # fmt: skip
            for key in [k for k in table if k[0] is conn]:
                del table[key]

    async def _send_loop(self, conn: _Conn) -> None:
        p = self.profile
        try:
            while True:
                due, text = await conn.queue.get()
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if due and p.stall_after is not None and conn.sent >= p.stall_after:
                    continue  # stalled: the socket stays open, nothing more is sent
                await conn.ws.send_str(text)
                if due:
                    conn.sent += 1
                    if p.close_after is not None and conn.sent >= p.close_after:
                        # abrupt: drop the transport, no close frame
                        transport = conn.ws._req.transport if conn.ws._req else None
                        if transport is not None:
                            transport.abort()
                        return
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            return

    def pubsub_call(self, conn: _Conn, text: str) -> dict[str, Any]:
        try:
            req = json.loads(text)
        except ValueError:
            return _error(None, PARSE_ERROR, "Parse error")
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0":
            return _error(None, INVALID_REQUEST, "Invalid request")
        rid, method, params = req.get("id"), req.get("method"), req.get("params", [])
        try:
            if not isinstance(params, list):
                raise RpcFault(INVALID_PARAMS, "Invalid params")
            result = self._pubsub_method(conn, str(method), params)
        except RpcFault as f:
            return _error(rid, f.code, f.message)
        return {"jsonrpc": "2.0", "result": result, "id": rid}

    def _pubsub_method(self, conn: _Conn, method: str, params: list[Any]) -> Any:
        if self.profile.refuse_subscriptions and method.endswith("Subscribe"):
            raise RpcFault(METHOD_NOT_FOUND, "Method not found")
        if method == "accountSubscribe":
            if not params or not isinstance(params[0], str) or params[0] == "":
                raise RpcFault(INVALID_PARAMS, "Invalid params: expected a pubkey")
            cfg = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
            if cfg.get("encoding", "binary") != "base64":
                raise RpcFault(INVALID_PARAMS, "Invalid params: the simulator serves base64")
            return self._add(conn, "account", params[0], self.account_subs)
        if method == "logsSubscribe":
            f = params[0] if params else None
            if not isinstance(f, dict) or not isinstance(f.get("mentions"), list):
                raise RpcFault(INVALID_PARAMS, "Invalid params: expected {mentions: [pubkey]}")
            if len(f["mentions"]) != 1:
                raise RpcFault(INVALID_PARAMS, "Invalid Request: Only 1 address supported")
            return self._add(conn, "logs", str(f["mentions"][0]), self.logs_subs)
        if method == "slotSubscribe":
            self.next_id += 1
            conn.subs[self.next_id] = ("slot", "")
            self.slot_subs[(conn, self.next_id)] = None
            return self.next_id
        if method == "signatureSubscribe":
            sig = params[0] if params else None
            if not isinstance(sig, str) or not 64 <= len(sig) <= 88:
                raise RpcFault(INVALID_PARAMS, "Invalid params: expected a signature")
            self.next_id += 1
            done = self.server.chain.statuses.get(sig)
            if done is not None:  # already processed: notify now, the subscription ends
                conn.queue.put_nowait(
                    (time.monotonic(), _signature_notification(self.next_id, *done))
                )
                return self.next_id
            conn.subs[self.next_id] = ("signature", sig)
            self.sig_subs.setdefault(sig, {})[(conn, self.next_id)] = None
            return self.next_id
        if method in ("accountUnsubscribe", "logsUnsubscribe", "slotUnsubscribe",
                      "signatureUnsubscribe"):  # fmt: skip
            sid = params[0] if params else None
            kind = method[: -len("Unsubscribe")]
            if not isinstance(sid, int) or conn.subs.get(sid, ("",))[0] != kind:
                raise RpcFault(INVALID_PARAMS, "Invalid subscription id.")
            _, key = conn.subs.pop(sid)
            table = {"account": self.account_subs.get(key), "logs": self.logs_subs.get(key),
                     "slot": self.slot_subs, "signature": self.sig_subs.get(key)}[kind]  # fmt: skip
            if table is not None:
                table.pop((conn, sid), None)
            return True
        raise RpcFault(METHOD_NOT_FOUND, "Method not found")

    def _add(self, conn: _Conn, kind: str, key: str, index: dict[str, Any]) -> int:
        self.next_id += 1
        conn.subs[self.next_id] = (kind, key)
        index.setdefault(key, {})[(conn, self.next_id)] = None
        return self.next_id

    # ------------------------------------------------------------ publishing
    def publish(self, res: SlotResult, values: dict[str, str]) -> None:
        """Queue the slot's notifications for every subscriber, after this endpoint's
        latency (one delay per slot, so each connection stays in order)."""
        p, r = self.profile, self.rng
        due = time.monotonic() + max(0.0, p.latency_ms + abs(r.gauss(0.0, p.jitter_ms))) / 1e3
        due += p.lag_slots * self.server.slot_seconds
        self.slots_published += 1
        if p.freeze_slot_after is not None and self.slots_published == p.freeze_slot_after:
            self.frozen_slot = res.slot
        for conn, text in self.render(res, values, faults=True) + self.hostile(res):
            if p.drop_rate and r.random() < p.drop_rate:
                self.stats["dropped"] += 1
                continue
            if p.malformed_rate and r.random() < p.malformed_rate:
                text = text[: len(text) // 2]
            self.stats["notifications"] += 1
            conn.queue.put_nowait((due, text))

    def render(
        self, res: SlotResult, values: dict[str, str], faults: bool = False
    ) -> list[tuple[_Conn, str]]:
        """The slot's notifications, in order, for every subscriber (with this endpoint's
        wrong accounts when ``faults``)."""
        p, r = self.profile, self.rng
        out: list[tuple[_Conn, str]] = []
        slot = self.frozen_slot if faults and self.frozen_slot is not None else res.slot
        for conn, sid in self.slot_subs:
            out.append((conn, _slot_notification(sid, slot)))
        for pubkey in res.changed:
            subs = self.account_subs.get(pubkey)
            if not subs:
                continue
            value = values[pubkey]
            for conn, sid in subs:
                if faults and p.bad_account_rate and r.random() < p.bad_account_rate:
                    value = self.server.bad_value(pubkey, r)
                elif faults and p.skew_rate and r.random() < p.skew_rate:
                    value = self.server.skewed_value(pubkey, r)
                if faults and p.unknown_rate and r.random() < p.unknown_rate:
                    sid += 1_000_003  # an id this connection was never given
                out.append((conn, account_notification(sid, res.slot, value)))
                value = values[pubkey]
        for tx in res.landed:
            value = json.dumps({"signature": tx.signature, "err": tx.err, "logs": list(tx.logs)})
            for program in tx.programs:
                for conn, sid in self.logs_subs.get(program, {}):
                    out.append((conn, '{"jsonrpc":"2.0","method":"logsNotification","params":'
                                f'{{"result":{{"context":{{"slot":{res.slot}}},"value":{value}}},'
                                f'"subscription":{sid}}}}}'))  # fmt: skip
            for conn, sid in list(self.sig_subs.pop(tx.signature, {})):
                conn.subs.pop(sid, None)  # a signature subscription ends with its notification
                out.append((conn, _signature_notification(sid, tx.slot, tx.err)))
        for t in res.trades:
            subs = self.logs_subs.get(t.program)
            if not subs:
                continue
            logs = json.dumps(
                {
                    "signature": t.signature,
                    "err": None,
                    "logs": [
                        f"Program {t.program} invoke [1]",
                        t.log,
                        f"Program {t.program} success",
                    ],
                }
            )
            for conn, sid in subs:
                out.append((conn, '{"jsonrpc":"2.0","method":"logsNotification","params":'
                            f'{{"result":{{"context":{{"slot":{res.slot}}},"value":{logs}}},'
                            f'"subscription":{sid}}}}}'))  # fmt: skip
        return out

    def hostile(self, res: SlotResult) -> list[tuple[_Conn, str]]:
        """The lies of a hostile endpoint this slot (``future_after``, ``repoint_rate``):
        frames a healthy node never sends, each plausible on its own."""
        p, r, w = self.profile, self.rng, self.server.world
        if p.future_after is None and not p.repoint_rate:
            return []
        pools = {pool.address for pool in w.pools}
        out: list[tuple[_Conn, str]] = []
        for conn in list(self.conns):
            mine = [(sid, key) for sid, (kind, key) in conn.subs.items()
                    if kind == "account" and key in pools]  # fmt: skip
            if p.future_after is not None and not conn.lied and conn.sent >= p.future_after:
                conn.lied = True
                ahead = res.slot + p.future_slots
                for sid, (kind, _) in conn.subs.items():
                    if kind == "slot":
                        out.append((conn, _slot_notification(sid, ahead)))
                if mine:
                    sid, key = mine[0]
                    value = json.dumps(w.accounts[key].value())
                    out.append((conn, account_notification(sid, ahead, value)))
            if mine and p.repoint_rate and r.random() < p.repoint_rate:
                sid, key = r.choice(mine)
                lie = self.server.repointed(key, r)
                out.append((conn, account_notification(sid, res.slot, lie)))
        return out

    async def flood(self, texts: dict[_Conn, list[str]], rate: float, log: list[int]) -> None:
        """Write pre-rendered notifications straight to each connection's socket as
        unmasked WebSocket text frames (RFC 6455 §5.2), bypassing the per-message send
        path so the server is never the bottleneck of a throughput measurement.
        ``rate`` > 0 paces them (messages/s per connection) and logs each write's
        monotonic ns in ``log``; 0 writes in 256 KiB chunks as fast as the socket drains."""
        for conn, msgs in texts.items():
            transport = conn.ws._req.transport if conn.ws._req else None
            if transport is None or transport.is_closing():
                continue
            frames = [_ws_frame(t.encode()) for t in msgs]
            if rate > 0:
                start = time.monotonic()
                for i, f in enumerate(frames):
                    delay = start + i / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    transport.write(f)
                    log.append(time.monotonic_ns())
                    self.stats["notifications"] += 1
                continue
            chunk: list[bytes] = []
            size = 0
            for f in frames:
                chunk.append(f)
                size += len(f)
                if size >= 1 << 18:
                    transport.write(b"".join(chunk))
                    chunk, size = [], 0
                    while transport.get_write_buffer_size() > 1 << 20:
                        await asyncio.sleep(0.0002)
            if chunk:
                transport.write(b"".join(chunk))
            self.stats["notifications"] += len(frames)


# the offsets of the vault and mint addresses of each pool layout, by size (AMM v4: coin
# and pc vault and mint; CP-Swap: token 0/1 vault and mint; Whirlpool: mint a, vault a,
# mint b, vault b)
_IDENTITY_KEYS = {752: (336, 368, 400, 432), 637: (72, 104, 168, 200),
                  653: (101, 133, 181, 213)}  # fmt: skip


def _slot_notification(sid: int, slot: int) -> str:
    return (
        '{"jsonrpc":"2.0","method":"slotNotification","params":{"result":'
        f'{{"parent":{slot - 1},"root":{slot - 32},"slot":{slot}}},"subscription":{sid}}}}}'
    )


def _signature_notification(sid: int, slot: int, err: Any) -> str:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "signatureNotification",
            "params": {
                "result": {"context": {"slot": slot}, "value": {"err": err}},
                "subscription": sid,
            },
        }
    )


def _ws_frame(payload: bytes) -> bytes:
    """A final, unmasked text frame (server to client) carrying ``payload``."""
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 1 << 16:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + payload


class SimServer:
    """The simulated market served as ``len(profiles)`` endpoints (see module doc)."""

    def __init__(
        self,
        config: WorldConfig | None = None,
        profiles: Sequence[EndpointProfile] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        slot_seconds: float | None = None,
        bench: bool = False,
        accept_transactions: bool = False,
    ) -> None:
        self.world = World(config)
        self.chain = Chain(self.world, accept_transactions)
        self.tx_delay_s = 0.0  # answer simulate/send this much later (a slow node)
        self.slot_times: dict[int, int] = {self.world.slot: int(time.time())}  # getBlockTime
        # bench mode: no slot clock; the market moves only when a client asks for a
        # flood (``simFlood``), for throughput and latency measurements (bench/e2e.py)
        self.bench = bench
        self._floods: list[asyncio.Task[None]] = []
        self._flood_log: list[list[int]] = []
        c = self.world.config
        self.slot_seconds = c.slot_seconds if slot_seconds is None else slot_seconds
        self.host, self.port = host, port
        profiles = list(profiles) if profiles is not None else default_profiles(3)
        self.endpoints = [_Endpoint(self, p, c.seed * 1000 + i) for i, p in enumerate(profiles)]
        self.fees: deque[tuple[int, int]] = deque(maxlen=FEE_SLOTS)
        self._clock: asyncio.Task[None] | None = None
        self.running = False

    async def start(self) -> list[EndpointInfo]:
        """Listen (consecutive ports from ``port`` when it is set, ephemeral otherwise)
        and start the slot clock; the endpoints' URLs."""
        for i, ep in enumerate(self.endpoints):
            await ep.start(self.host, self.port + i if self.port else 0)
        self.running = True
        if not self.bench:
            self._clock = asyncio.create_task(self._run_clock())
        return self.infos()

    def infos(self) -> list[EndpointInfo]:
        return [
            EndpointInfo(
                ep.profile.name, f"http://{self.host}:{ep.port}", f"ws://{self.host}:{ep.port}"
            )
            for ep in self.endpoints
        ]

    async def stop(self) -> None:
        self.running = False
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        for t in self._floods:
            t.cancel()
        for ep in self.endpoints:
            await ep.stop()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run_clock(self) -> None:
        nxt = time.monotonic()
        while True:
            self.step()
            nxt += self.slot_seconds
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))

    def step(self) -> SlotResult:
        """Advance the world one slot and publish it on every endpoint."""
        res = self.world.step()
        self.slot_times[res.slot] = int(time.time())
        while len(self.slot_times) > FEE_SLOTS * 4:
            self.slot_times.pop(next(iter(self.slot_times)))
        self.fees.append((res.slot, res.priority_fee))
        values = {k: json.dumps(self.world.accounts[k].value()) for k in res.changed}
        for ep in self.endpoints:
            ep.publish(res, values)
        return res

    def bad_value(self, pubkey: str, r: random.Random) -> str:
        """A wrong version of an account: truncated data, or owned by another program."""
        v = self.world.accounts[pubkey].value()
        if r.random() < 0.5:
            data = self.world.accounts[pubkey].data
            v["data"] = [base64.b64encode(data[: len(data) // 3]).decode(), "base64"]
            v["space"] = len(data) // 3
        else:
            v["owner"] = I.SYSTEM_PROGRAM
        return json.dumps(v)

    def skewed_value(self, pubkey: str, r: random.Random) -> str:
        """A token account whose balance is wrong but plausible (it decodes)."""
        acc = self.world.accounts[pubkey]
        v = acc.value()
        data = bytearray(acc.data)
        if len(data) >= 72:
            amount = int.from_bytes(data[64:72], "little")
            data[64:72] = max(1, amount * r.randint(2, 9) // 10).to_bytes(8, "little")
        v["data"] = [base64.b64encode(bytes(data)).decode(), "base64"]
        return json.dumps(v)

    def repointed(self, pubkey: str, r: random.Random) -> str:
        """A pool account whose mints and vaults name other accounts: the right size and
        owner, so it decodes (AMM v4 has no discriminator to tell)."""
        acc = self.world.accounts[pubkey]
        data = bytearray(acc.data)
        for off in _IDENTITY_KEYS.get(len(data), ()):
            data[off : off + 32] = r.randbytes(32)
        v = acc.value()
        v["data"] = [base64.b64encode(bytes(data)).decode(), "base64"]
        return json.dumps(v)

    # ------------------------------------------------------------ HTTP methods
    def _context(self) -> dict[str, Any]:
        return {"apiVersion": "3.1.8", "slot": self.world.slot}

    def http_method(self, method: str, params: list[Any]) -> Any:
        w = self.world
        if method == "getSlot":
            return w.slot
        if method == "getHealth":
            return "ok"
        if method == "getBlockTime":
            slot = params[0] if params else None
            if not isinstance(slot, int) or isinstance(slot, bool):
                raise RpcFault(INVALID_PARAMS, "Invalid params: expected a slot")
            if slot not in self.slot_times:
                raise RpcFault(-32004, f"Block not available for slot {slot}")
            return self.slot_times[slot]
        if method == "getVersion":
            return {"solana-core": "3.1.8-arbscope-sim", "feature-set": 0}
        if method in ("getMultipleAccounts", "getAccountInfo"):
            keys = params[0] if params else None
            if method == "getAccountInfo":
                keys = [keys]
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise RpcFault(INVALID_PARAMS, "Invalid params: expected pubkeys")
            if len(keys) > 100:
                raise RpcFault(INVALID_PARAMS, "Too many inputs provided; max 100")
            cfg = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
            if cfg.get("encoding", "base64") != "base64":
                raise RpcFault(INVALID_PARAMS, "Invalid params: the simulator serves base64")
            vals = [w.accounts[k].value() if k in w.accounts else None for k in keys]
            return {
                "context": self._context(),
                "value": vals[0] if method == "getAccountInfo" else vals,
            }
        if method == "getRecentPrioritizationFees":
            return [{"slot": s, "prioritizationFee": f} for s, f in self.fees]
        if method in _CHAIN_METHODS:
            try:
                return self._chain_method(method, params)
            except ChainError as exc:
                raise RpcFault(exc.code, exc.message, exc.data) from None
        if self.bench and method == "simFlood":
            return self._start_flood(params)
        if self.bench and method == "simFloodReport":
            done = all(t.done() for t in self._floods)
            return {"done": done, "writes": self._flood_log if done else []}
        raise RpcFault(METHOD_NOT_FOUND, "Method not found")

    def _chain_method(self, method: str, params: list[Any]) -> Any:
        w, c = self.world, self.chain
        if method == "getLatestBlockhash":
            bh, last = c.latest_blockhash()
            return {"context": self._context(),
                    "value": {"blockhash": bh, "lastValidBlockHeight": last}}  # fmt: skip
        if method == "getBlockHeight":
            return c.block_height()
        if method == "isBlockhashValid":
            ok = bool(params) and isinstance(params[0], str) and c.blockhash_valid(params[0])
            return {"context": self._context(), "value": ok}
        if method == "getBalance":
            if not params or not isinstance(params[0], str):
                raise RpcFault(INVALID_PARAMS, "Invalid params: expected a pubkey")
            return {"context": self._context(), "value": w.lamports(params[0])}
        if method == "getTokenAccountBalance":
            tok = w.token_account(params[0]) if params and isinstance(params[0], str) else None
            if tok is None:
                raise RpcFault(INVALID_PARAMS, "Invalid param: not a Token account")
            dec = w.decimals.get(tok.mint, 0)
            return {"context": self._context(), "value": {
                "amount": str(tok.amount), "decimals": dec, "uiAmount": tok.amount / 10**dec,
                "uiAmountString": str(tok.amount / 10**dec)}}  # fmt: skip
        if method == "getSignatureStatuses":
            return {"context": self._context(), "value": c.signature_statuses(params)}
        if method == "simInfo":
            return {"acceptsTransactions": c.accept, "slotSeconds": self.slot_seconds,
                    "stats": dataclasses.asdict(c.stats)}  # fmt: skip
        if method == "simulateTransaction":
            return {"context": self._context(), "value": c.simulate(params)}
        if method == "sendTransaction":
            return c.send(params)
        if method == "requestAirdrop":
            return c.airdrop(params)
        if method == "simFund":
            return c.fund(params)
        raise RpcFault(METHOD_NOT_FOUND, "Method not found")

    def jito_method(self, method: str, params: list[Any]) -> Any:
        """The block engine's methods (``/api/v1/bundles``, ``/api/v1/transactions``)."""
        try:
            if method == "getTipAccounts":
                return list(I.JITO_TIP_ACCOUNTS)
            if method == "sendBundle":
                return self.chain.send_bundle(params)
            if method == "sendTransaction":
                return self.chain.send(params)
            value = self.chain.bundle_statuses(params, method == "getInflightBundleStatuses")
            return {"context": {"slot": self.world.slot}, "value": value}
        except ChainError as exc:
            raise RpcFault(exc.code, exc.message, exc.data) from None

    def _start_flood(self, params: list[Any]) -> dict[str, Any]:
        """``simFlood [slots, rate]``: step the market ``slots`` slots at once, render every
        subscriber's notifications, then write them (paced at ``rate`` messages/s per
        connection, or as fast as the sockets take them when 0). Answers the number of
        messages each endpoint will send."""
        if len(params) != 2 or not all(isinstance(x, (int, float)) for x in params):
            raise RpcFault(INVALID_PARAMS, "Invalid params: expected [slots, rate]")
        if not all(t.done() for t in self._floods):
            raise RpcFault(INVALID_REQUEST, "a flood is already running")
        slots, rate = int(params[0]), float(params[1])
        texts: list[dict[_Conn, list[str]]] = [{} for _ in self.endpoints]
        for _ in range(max(0, slots)):
            res = self.world.step()
            self.fees.append((res.slot, res.priority_fee))
            values = {k: json.dumps(self.world.accounts[k].value()) for k in res.changed}
            for i, ep in enumerate(self.endpoints):
                for conn, text in ep.render(res, values):
                    texts[i].setdefault(conn, []).append(text)
        self._flood_log = [[] for _ in self.endpoints]
        self._floods = [
            asyncio.get_running_loop().create_task(ep.flood(texts[i], rate, self._flood_log[i]))
            for i, ep in enumerate(self.endpoints)
        ]
        return {"messages": [sum(len(v) for v in t.values()) for t in texts]}

"""The simulator server: Solana JSON-RPC over HTTP and PubSub over WebSocket on
127.0.0.1, backed by :class:`~feeds.sim.world.World`.

It can present itself as several endpoints (one port each, HTTP and WebSocket on the
same port; ``https://`` and ``wss://`` when given a certificate and key: ``tls``) with
their own latency, jitter and drop rate, and with faults for tests: a connection that
closes mid-stream, malformed JSON, wrong-size or wrong-owner accounts, a stall (socket
open, nothing sent), or an endpoint that never answers at all; and a provider's limits:
HTTP requests per second over which requests are refused as Helius or the public
mainnet-beta endpoint refuse them (429 with or without ``Retry-After``, or a JSON-RPC
-32429), and subscriptions per PubSub connection over which a subscribe is refused with
Agave's "subscription limit reached" error or the socket is closed (1008).

Methods: ``accountSubscribe`` and ``programSubscribe`` (every account encoding,
``dataSlice``; programs with filters), ``logsSubscribe`` (``mentions`` one address, or
``all`` / ``allWithVotes``), ``slotSubscribe``, ``rootSubscribe`` (the root: 32 slots
back), ``slotsUpdatesSubscribe``, ``signatureSubscribe`` (one already processed: the
answer, then its notification) and their unsubscribes; HTTP
``getMultipleAccounts`` (≤ 100 keys), ``getAccountInfo``, ``getProgramAccounts`` (filters,
``dataSlice``, every account encoding, ``withContext``: :mod:`feeds.sim.node` holds the
node's rules and wording), ``getBalance``,
``getTokenAccountBalance``, ``getSlot``, ``getBlockTime``, ``getBlockHeight``,
``getLatestBlockhash``, ``isBlockhashValid``, ``getSignatureStatuses``,
``getRecentPrioritizationFees`` (150 slots, ``lockedWritableAccounts``), ``getHealth``,
``getVersion``, and the methods of :mod:`feeds.sim.methods` (``getTransaction`` and
``getSignaturesForAddress`` among them); batches and notifications as jsonrpc-core takes
them. Parameters, commitment levels and errors
follow a node's rules and wording (:mod:`feeds.sim.node`).

Transactions (:mod:`feeds.sim.chain`) only when the server is asked to accept them
(``accept_transactions``, ``arbscope sim --accept-tx``): ``simulateTransaction``,
``sendTransaction``, ``requestAirdrop`` and the faucet ``simFund [owner, mint, amount]``;
a Jito block engine at ``/api/v1/bundles`` (``sendBundle``, ``getBundleStatuses``,
``getInflightBundleStatuses``, ``getTipAccounts``) and ``/api/v1/transactions``, each
engine at most its ``rps`` requests a second (Jito's default 1; over it: HTTP 429).
Otherwise they answer "does not accept transactions" and nothing can trade on the
simulator. ``simInfo`` says which.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import json
import logging
import random
import ssl
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ..wire import instructions as I
from ..wire.protocol import account_notification
from . import node as N
from .chain import BLOCKHASH_SLOTS, ROOT_DISTANCE, Chain, ChainError
from .geyser import AccountRecord, GeyserService, SlotRecord, TxRecord, transaction_parts
from .layouts import TOKEN_ACCOUNT_LEN
from .methods import METHODS
from .node import RpcFault
from .state import Account
from .world import SlotResult, World, WorldConfig

log = logging.getLogger(__name__)

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = (
    N.PARSE_ERROR,
    N.INVALID_REQUEST,
    N.METHOD_NOT_FOUND,
    N.INVALID_PARAMS,
)
FEE_SLOTS = 150  # a node's prioritization-fee cache (spec §5.2)
MAX_TX_ACCOUNT_LOCKS = 128  # accounts a transaction may lock (and a fee query may name)
_CHAIN_METHODS = frozenset(
    {
        "getLatestBlockhash",
        "getBlockHeight",
        "isBlockhashValid",
        "getBalance",
        "getTokenAccountBalance",
        "getSignatureStatuses",
        "simInfo",
        "simulateTransaction",
        "sendTransaction",
        "requestAirdrop",
        "simFund",
        "simulateBundle",
    }
)
_TX_METHODS = frozenset({"simulateTransaction", "sendTransaction", "simulateBundle"})
# jsonrpc-http-server's refusals before a request is read (``http/src/response.rs``)
JSON_TYPES = frozenset(
    {"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"}
)
NOT_POST = "Used HTTP Method is not allowed. POST or OPTIONS is required\n"
NOT_JSON = "Supplied content type is not allowed. Content-Type: application/json is required\n"


# Agave's PubSub notification queue (rpc/src/rpc_pubsub_service.rs,
# DEFAULT_QUEUE_CAPACITY_ITEMS / _BYTES, the validator's --rpc-pubsub-queue-capacity-items
# and --rpc-pubsub-queue-capacity-bytes). The node's notifier serializes each notification
# once, keeps the newest in ``RecentItems`` (rpc_subscriptions.rs: the oldest dropped while
# there are more than the items or their bytes exceed the bytes) and broadcasts a weak
# reference on a tokio broadcast channel of that many items; each connection's handler
# takes them in order and, when its next one is gone (the channel says ``Lagged``, or the
# reference no longer upgrades: ``NotificationIsGone``), returns an error: the connection
# is dropped, no close frame. A slow subscriber is cut, never queued for without bound.
QUEUE_CAPACITY_ITEMS = 10_000_000
QUEUE_CAPACITY_BYTES = 256 * 1024 * 1024
# Yellowstone's per-stream channel (yellowstone-grpc-geyser ``config.rs``,
# ``channel_capacity``, 250,000 messages by default): see feeds.sim.geyser.
GRPC_CHANNEL_CAPACITY = 250_000


@dataclass(frozen=True, slots=True)
class EndpointProfile:
    """How one simulated endpoint behaves. Rates are per message, in [0, 1]."""

    name: str = "sim"
    latency_ms: float = 20.0
    jitter_ms: float = 5.0
    drop_rate: float = 0.0
    # account notifications alone dropped (slots and logs pass: a node that loses the
    # account data it streams while its pulse looks healthy)
    account_drop_rate: float = 0.0
    close_after: int | None = None  # notifications per connection, then an abrupt close
    stall_after: int | None = None  # notifications per connection, then silence
    malformed_rate: float = 0.0  # a notification cut in half (not JSON)
    bad_account_rate: float = 0.0  # account data truncated, or the owner wrong
    silent: bool = False  # accepts connections and never answers
    # a node under load: every HTTP JSON-RPC request answered this much later (the
    # streams and the clock go on; the answer is the one it would have given at once)
    rpc_delay_ms: float = 0.0
    refuse_subscriptions: bool = False  # every *Subscribe answered with a JSON-RPC error
    freeze_slot_after: int | None = None  # slots, then slotNotification repeats that slot
    # (accounts and logs go on: a node whose slot is stuck while data still flows)
    rewind_after: int | None = None  # slots, then slotNotification says rewind_slots fewer
    rewind_slots: int = 1_000  # (a load balancer that switched to a node far behind)
    # hostile or lagging nodes (fault injection; a healthy node does none of these)
    lag_slots: int = 0  # every slot's notifications sent this many slots late
    future_after: int | None = None  # after this many notifications on a connection, once:
    future_slots: int = 1_000  # a slot and a pool's account this many slots ahead
    repoint_rate: float = 0.0  # per slot: a pool account whose mints and vaults are others
    skew_rate: float = 0.0  # a vault's balance wrong (the account decodes: plausible)
    unknown_rate: float = 0.0  # a notification under a subscription id never given
    # HTTP methods this node does not serve, answered -32601 ``Method not found`` as
    # jsonrpc-core answers a method it has no handler for (a node without the accounts-
    # scan API, or a provider's plan that leaves ``getProgramAccounts`` out)
    refuse_methods: tuple[str, ...] = ()
    # a provider's limits (what a gateway in front of the node answers; see RATE_LIMIT_ANSWERS)
    rate_limit_rps: int | None = None  # HTTP requests per second (one-second windows); 0: none
    rate_limit_answer: str = "retry-after"  # how the requests over it are refused
    retry_after_s: int = 1  # the Retry-After header's seconds ("retry-after" answers)
    rate_limit_ws: bool = False  # WebSocket upgrades count against the rate too (429 refused)
    max_subscriptions: int | None = None  # subscriptions per PubSub connection
    cap_answer: str = "error"  # a subscribe over the cap: "error" answer, or "close" the socket
    # the node's notification queue (Agave's --rpc-pubsub-queue-capacity-items / -bytes,
    # their defaults): a PubSub connection whose oldest unsent notification is no longer
    # among the last this many notifications (or bytes of them) the node sent is cut
    # (:meth:`_Endpoint.publish`)
    queue_capacity_items: int = QUEUE_CAPACITY_ITEMS
    queue_capacity_bytes: int = QUEUE_CAPACITY_BYTES
    # the gRPC service's channel per stream (Yellowstone's ``channel_capacity``): a
    # stream with this many messages waiting is ended ``INTERNAL`` "lagged to send an
    # update" after them (feeds.sim.geyser)
    grpc_channel_capacity: int = GRPC_CHANNEL_CAPACITY

    def __post_init__(self) -> None:
        if self.rate_limit_answer not in RATE_LIMIT_ANSWERS:
            raise ValueError(
                f"rate_limit_answer {self.rate_limit_answer!r} is not one of "
                f"{', '.join(RATE_LIMIT_ANSWERS)}"
            )
        if self.cap_answer not in CAP_ANSWERS:
            raise ValueError(
                f"cap_answer {self.cap_answer!r} is not one of {', '.join(CAP_ANSWERS)}"
            )
        if self.queue_capacity_items < 1 or self.queue_capacity_bytes < 1:
            raise ValueError("queue_capacity_items and queue_capacity_bytes must be >= 1")
        if self.grpc_channel_capacity < 1:
            raise ValueError("grpc_channel_capacity must be >= 1")


# How providers refuse requests over their rate, as seen in the wild (sources per line):
# - "retry-after": HTTP 429 with ``Retry-After: <seconds>`` and a JSON-RPC body of code
#   -32429 "rate limited": Helius (its docs, demo.helius.dev/rate-limits: ``retry-after``
#   in seconds on 429s; the body as quoted in public client code and incident notes,
#   e.g. ``429 Too Many Requests: {"jsonrpc":"2.0","error":{"code":-32429,"message":
#   "rate limited"}}``);
# - "plain": HTTP 429 without Retry-After, body code 429 "Too many requests for a specific
#   RPC call, contact your app developer or support@rpcpool.com.": the public
#   api.mainnet-beta.solana.com (run by Triton/rpcpool; solana-labs/solana-program-library
#   issue 2784, wormhole-foundation/wormhole-connect issue 318). That no Retry-After comes
#   with it is from those reports (none quotes one), not from a documented guarantee;
# - "jsonrpc": HTTP 200 whose body is a JSON-RPC error -32429: how an exhausted Helius
#   plan was seen answering ("max usage reached", quoted in public failover code); the
#   rate-limited wording is used here.
RATE_LIMIT_ANSWERS = ("retry-after", "plain", "jsonrpc")
RATE_LIMITED = -32429
RATE_LIMITED_MESSAGE = "rate limited"
RPCPOOL_429 = (
    "Too many requests for a specific RPC call, contact your app developer or support@rpcpool.com."
)
# A subscribe over the cap: "error" is Agave's own refusal (rpc/src/rpc_pubsub.rs,
# ``subscribe``: ErrorCode::InternalError with this message, when the node's
# max_active_subscriptions is reached); "close" closes the socket with 1008 (policy
# violation), the close code Alchemy documents for its WebSocket limits (its docs,
# subscription-api: "WebSocket connection limit reached"); that a provider closes the
# socket on a subscription cap is an assumption to emulate the worst case.
CAP_ANSWERS = ("error", "close")
SUBSCRIPTION_LIMIT = "Internal Error: Subscription refused. Node subscription limit reached"
# A block engine over its rate limit: HTTP 429 with this JSON-RPC body, as a Jito block
# engine was seen answering a sendBundle over the limit (the answer logged by a bot's
# send loop, quoted in public code: status 429 Too Many Requests, this body byte for
# byte). Jito's docs (jito-labs/jito-docs lowlatencytxnsend.md, "Rate Limits") say only
# "429 or rate limit error indicating what you hit".
JITO_RATE_LIMITED = {
    "jsonrpc": "2.0",
    "error": {
        "code": -32097,
        "message": "Network congested. Endpoint is globally rate limited.",
        "data": None,
    },
    "id": None,
}
_CLOSE = "\0close"  # queued after the answers: the send loop closes the socket with 1008


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
    grpc_url: str = ""  # its Yellowstone gRPC (``SimServer(grpc=True)``); "" without


@dataclass(eq=False)
class _Conn:
    """One PubSub connection. What waits to be written is in two queues, as on a node:
    the answers to its requests (written first: Agave's handler writes an answer as soon
    as the request is handled) and its notifications (``(due, text, items, bytes)``: when
    its latency lets it out, and the node's notification count and bytes before it)."""

    ws: web.WebSocketResponse
    answers_out: deque[str] = field(default_factory=deque)
    notes: deque[tuple[float, str, int, int]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # something was queued
    subs: dict[int, tuple[str, str]] = field(default_factory=dict)
    sent: int = 0
    lied: bool = False  # the future_after fault happened on this connection
    after: list[str] = field(default_factory=list)  # notifications due after an answer
    answers: int = 0  # answers queued and not yet written
    drained: asyncio.Event = field(default_factory=asyncio.Event)  # answers below the backlog
    capped: bool = False  # a subscribe went over the cap and the profile closes the socket
    lagged: bool = False  # cut: its oldest notification fell out of the node's queue

    def answer(self, text: str) -> None:
        self.answers_out.append(text)
        self.wake.set()

    def note(self, due: float, text: str, items: int, size: int) -> None:
        self.notes.append((due, text, items, size))
        self.wake.set()


# the subscription kinds (``<kind>Subscribe``): what each watches is its table's key
_KINDS = ("account", "program", "logs", "slot", "signature", "root", "slotsUpdates")
VERSION = {"solana-core": "3.1.12-arbscope-sim", "feature-set": 0}  # the node it answers as
# the methods that take no parameters (given by name, they are refused in their words)
TAKE_NONE = frozenset(
    {
        "getHealth",
        "getVersion",
        "getGenesisHash",
        "getEpochSchedule",
        "slotSubscribe",
        "rootSubscribe",
        "slotsUpdatesSubscribe",
    }
)
# a slot that took longer to step than a slot lasts is followed by this share of its
# time for the sockets alone (SimServer._run_clock)
SERVE_SHARE = 0.25
ANSWER_BACKLOG = 64  # answers waiting on one connection before its requests wait too


@dataclass(frozen=True, slots=True)
class _Opts:
    """How one subscription wants its notifications (accounts: encoding and slice;
    programs: filters too; every kind: its commitment)."""

    encoding: str = "base64"
    cut: N.DataSlice | None = None
    level: str = "finalized"
    filters: tuple[N.Filter, ...] = ()

    @property
    def plain(self) -> bool:
        """base64 and whole: the slot's pre-rendered value serves it."""
        return self.encoding == "base64" and self.cut is None


def _opts(cfg: dict[str, Any]) -> _Opts:
    """An account or program subscription's configuration (the node's defaults:
    ``binary``, ``finalized``; ``minContextSlot`` is ignored by PubSub)."""
    encoding = N.account_encoding(cfg, "binary")
    return _Opts(encoding, N.data_slice(cfg), N.commitment(cfg))


def _sub_key(value: Any, thing: str, parse: Callable[[Any], str] = N.parse_pubkey) -> str:
    """A key a subscription names, refused in PubSub's words (``Invalid Request:
    Invalid pubkey provided``)."""
    text = N.expect_str(value)
    try:
        return parse(text)
    except RpcFault:
        raise RpcFault(INVALID_PARAMS, f"Invalid Request: Invalid {thing} provided") from None


class _Endpoint:
    """One endpoint: an aiohttp app on its own port."""

    def __init__(self, server: SimServer, profile: EndpointProfile, seed: int) -> None:
        self.server, self.profile = server, profile
        self.rng = random.Random(seed)
        self.conns: set[_Conn] = set()
        # subscriptions by kind, then by what they watch ("" for none), then by who
        self.tables: dict[str, dict[str, dict[tuple[_Conn, int], _Opts]]] = {
            kind: {} for kind in _KINDS
        }
        self.account_subs = self.tables["account"]
        self.program_subs = self.tables["program"]
        self.logs_subs = self.tables["logs"]  # "" holds the "all" / "allWithVotes" ones
        self.sig_subs = self.tables["signature"]
        self.next_id = 0
        # the notifications queued so far and their bytes (the node's notification queue:
        # EndpointProfile.queue_capacity_items / _bytes)
        self.queued_items = 0
        self.queued_bytes = 0
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.stats = {
            "connections": 0,
            "notifications": 0,
            "dropped": 0,
            "requests": 0,
            "pubsub_requests": 0,
            "answer_backlog": 0,
            "lagged": 0,  # connections cut: they fell behind the notification queue
            "rate_limited": 0,
            "over_cap": 0,
            "http_inflight": 0,  # HTTP JSON-RPC requests being served now
            "http_inflight_max": 0,  # the most at once
            "http_connections": 0,  # TCP connections that carried JSON-RPC requests
        }
        self._http_transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()
        self._window, self._window_n = -1, 0  # the rate limit's one-second window
        # HTTP JSON-RPC served: requests and answer bytes per method (what a client cost)
        self.served: dict[str, list[int]] = {}
        self.slots_published = 0
        self.frozen_slot: int | None = None  # the slot shown once freeze_slot_after ran out
        # set when the endpoint stops: a silent endpoint's requests wait on it (not on a
        # long sleep the server's shutdown would wait out for a minute)
        self.stopping = asyncio.Event()
        self.held_back = asyncio.Event()  # set once a connection's reading waited on its answers
        # its Yellowstone gRPC service (feeds.sim.geyser), when the server serves gRPC
        self.geyser: GeyserService | None = None

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        app = web.Application()
        app.router.add_route("*", "/", self.handle)
        app.router.add_route("*", "/health", self.handle_health)
        app.router.add_route("*", "/api/v1/bundles", self.handle_jito)
        app.router.add_route("*", "/api/v1/transactions", self.handle_jito)
        app.router.add_route("GET", "/api/v1/bundles/tip_floor", self.handle_tip_floor)
        # block engines by region (as Jito's regional hosts): /<region>/api/v1/...
        app.router.add_route("*", "/{region}/api/v1/bundles", self.handle_jito)
        app.router.add_route("*", "/{region}/api/v1/transactions", self.handle_jito)
        app.router.add_route("GET", "/{region}/api/v1/bundles/tip_floor", self.handle_tip_floor)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, ssl_context=tls)
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
            if self.profile.rate_limit_ws and self._over_rate():
                return self._rate_limited(None)  # the upgrade refused: HTTP 429
            return await self.websocket(request)
        refused = self.profile.refuse_methods

        def dispatch(method: str, params: list[Any]) -> Any:
            if method in refused:
                raise RpcFault(METHOD_NOT_FOUND, "Method not found")
            return self.server.http_method(method, params)

        return await self._post(request, dispatch, batches=True)

    async def handle_health(self, request: web.Request) -> web.StreamResponse:
        """``/health`` as a node's RPC serves it (Agave ``rpc_service.rs``): 200 with
        ``ok`` (``behind`` / ``unknown`` when it lags, which no simulated node does)."""
        if self.profile.silent:
            await self.stopping.wait()
            raise web.HTTPServiceUnavailable()
        return web.Response(text="ok")

    def _engine(self, request: web.Request) -> str:
        """The block engine a request is for ("" the default one; a region the server
        was not given is a 404, as an unknown host would be)."""
        region = request.match_info.get("region", "")
        if region not in self.server.chain.engines:
            raise web.HTTPNotFound()
        if self.server.chain.engines[region].down:
            raise web.HTTPServiceUnavailable()
        return region

    async def handle_tip_floor(self, request: web.Request) -> web.StreamResponse:
        """Jito's tip floor (spec §5.4): the percentiles of recently landed tips, in SOL."""
        self._engine(request)
        return web.json_response(self.server.chain.tip_floor())

    async def handle_jito(self, request: web.Request) -> web.StreamResponse:
        """The Jito block engine (spec §5.4): bundles and single transactions."""
        if self.profile.silent:
            await self.stopping.wait()
            raise web.HTTPServiceUnavailable()
        engine = self._engine(request)
        if request.method == "POST" and not self.server.chain.engines[engine].admit(
            self.server.jito_clock()
        ):
            text = json.dumps(JITO_RATE_LIMITED, separators=(",", ":"))
            return web.Response(status=429, text=text, content_type="application/json")
        allowed = (
            {"sendTransaction"}
            if request.path.endswith("/transactions")
            else {"sendBundle", "getBundleStatuses", "getInflightBundleStatuses", "getTipAccounts"}
        )

        def dispatch(method: str, params: list[Any]) -> Any:
            if method not in allowed:
                raise RpcFault(METHOD_NOT_FOUND, "Method not found")
            return self.server.jito_method(method, params, engine)

        return await self._post(request, dispatch, batches=False)

    async def _post(
        self, request: web.Request, dispatch: Callable[[str, list[Any]], Any], batches: bool
    ) -> web.StreamResponse:
        """One JSON-RPC POST (a batch too, where ``batches``) answered by ``dispatch``, as
        jsonrpc-http-server answers it: only POST with a JSON content type (OPTIONS: an
        empty 200), the answer followed by a newline, a notification by an empty 200."""
        if request.method == "OPTIONS":
            return web.Response(status=200)
        if request.method != "POST":
            return web.Response(status=405, text=NOT_POST)
        if request.headers.get("Content-Type", "").lower() not in JSON_TYPES:
            return web.Response(status=415, text=NOT_JSON)
        self.stats["requests"] += 1
        st = self.stats
        transport = request.transport
        if transport is not None and transport not in self._http_transports:
            self._http_transports.add(transport)
            st["http_connections"] += 1
        st["http_inflight"] += 1
        st["http_inflight_max"] = max(st["http_inflight_max"], st["http_inflight"])
        try:
            return await self._answer(request, dispatch, batches)
        finally:
            st["http_inflight"] -= 1

    async def _answer(
        self, request: web.Request, dispatch: Callable[[str, list[Any]], Any], batches: bool
    ) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = N.UNPARSED
        if self._over_rate():
            return self._rate_limited(body)
        if self.profile.rpc_delay_ms > 0:  # a node under load; never past its shutdown
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.profile.rpc_delay_ms / 1e3)
        delay = self.server.tx_delay_s
        if delay and isinstance(body, dict) and body.get("method") in _TX_METHODS:
            await asyncio.sleep(delay)  # a slow node (tests: the kill switch mid-flight)
        answer = N.answer_body(body, dispatch, batches, TAKE_NONE)
        text = "" if answer is None else json.dumps(answer, separators=(",", ":")) + "\n"
        method = body.get("method") if isinstance(body, dict) else "<batch>"
        tally = self.served.setdefault(method if isinstance(method, str) else "?", [0, 0])
        tally[0] += 1
        tally[1] += len(text.encode())
        return web.Response(text=text, content_type="application/json", charset="utf-8")

    def _over_rate(self) -> bool:
        """One more request in this second's window; True when it is over the rate."""
        rps = self.profile.rate_limit_rps
        if rps is None:
            return False
        window = int(time.monotonic())
        if window != self._window:
            self._window, self._window_n = window, 0
        self._window_n += 1
        return self._window_n > rps

    def _rate_limited(self, body: Any) -> web.Response:
        """A request over the rate, refused as the profile's provider refuses it."""
        self.stats["rate_limited"] += 1
        p = self.profile
        rid = body.get("id") if isinstance(body, dict) else None
        headers: dict[str, str] = {}
        if p.rate_limit_answer == "plain":
            err, status = {"code": 429, "message": RPCPOOL_429}, 429
        else:
            err = {"code": RATE_LIMITED, "message": RATE_LIMITED_MESSAGE}
            status = 200
            if p.rate_limit_answer == "retry-after":
                status, headers = 429, {"Retry-After": str(p.retry_after_s)}
        text = json.dumps({"jsonrpc": "2.0", "error": err, "id": rid}, separators=(",", ":"))
        return web.Response(
            status=status,
            text=text + "\n",
            headers=headers,
            content_type="application/json",
            charset="utf-8",
        )

    # ------------------------------------------------------------ PubSub
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """One PubSub connection. Requests are taken one at a time, as a node's connection
        handler takes them (``rpc_pubsub_service.rs``: receive, handle, send the answer,
        then the next): a client that sends faster than it reads its answers is held back
        by its own socket once :data:`ANSWER_BACKLOG` answers wait to be sent, and every
        request yields to the loop, so a flood on one connection never starves the others
        or the slot clock."""
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
                self.stats["pubsub_requests"] += 1
                reply = self.pubsub_call(conn, msg.data)
                if conn.capped:  # over the cap, and this provider closes the socket once
                    conn.answer(_CLOSE)  # the answers before it are out
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await sender
                    break
                if reply is not None:
                    conn.answers += 1
                    self.stats["answer_backlog"] = max(self.stats["answer_backlog"], conn.answers)
                    conn.answer(json.dumps(reply))
                for text in conn.after:  # notifications due once the answer is out
                    self._note(conn, time.monotonic(), text)
                conn.after.clear()
                if conn.answers >= ANSWER_BACKLOG:
                    self.held_back.set()
                    conn.drained.clear()
                    await conn.drained.wait()  # read no more until the answers are out
                else:
                    await asyncio.sleep(0)  # one request per turn of the loop
                if sender.done():
                    break  # the connection was cut (a fault) or its socket failed
        except ConnectionResetError:
            # a ping's pong written to a socket already closing (the client went while a
            # busy loop held its frames): the connection is over, as a node drops it,
            # not a traceback in the simulator's log
            pass
        finally:
            sender.cancel()
            self._drop(conn)
        return ws

    def _drop(self, conn: _Conn) -> None:
        self.conns.discard(conn)
        for sid, (kind, key) in conn.subs.items():
            self.tables[kind].get(key, {}).pop((conn, sid), None)
        conn.subs.clear()

    async def _send_loop(self, conn: _Conn) -> None:
        """Write what waits on one connection: its answers first, then its notifications
        in order, each once its latency is over (the reader answers pings itself, as a
        node's handler answers them before anything it has to send)."""
        p = self.profile
        try:
            while True:
                if conn.answers_out:
                    text = conn.answers_out.popleft()
                    if text is _CLOSE:
                        await conn.ws.close(code=1008, message=b"subscription limit reached")
                        return
                    await conn.ws.send_str(text)
                    conn.answers -= 1
                    if conn.answers < ANSWER_BACKLOG:
                        conn.drained.set()
                    continue
                if not conn.notes:
                    conn.wake.clear()
                    await conn.wake.wait()
                    continue
                due, text, _, _ = conn.notes[0]
                delay = due - time.monotonic()
                if delay > 0:  # its latency: wait, unless an answer comes first
                    conn.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(conn.wake.wait(), delay)
                    continue
                conn.notes.popleft()
                if p.stall_after is not None and conn.sent >= p.stall_after:
                    continue  # stalled: the socket stays open, nothing more is sent
                await conn.ws.send_str(text)
                conn.sent += 1
                if p.close_after is not None and conn.sent >= p.close_after:
                    # abrupt: drop the transport, no close frame
                    transport = conn.ws._req.transport if conn.ws._req else None
                    if transport is not None:
                        transport.abort()
                    return
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            return
        finally:
            conn.drained.set()  # the reader must not wait on a sender that is gone

    def _note(self, conn: _Conn, due: float, text: str) -> None:
        """Queue one notification on ``conn``, counted in the node's notification queue
        (none for a connection cut for lagging: its socket is closing)."""
        if conn.lagged:
            return
        was_empty = not conn.notes
        conn.notes.append((due, text, self.queued_items, self.queued_bytes))
        self.queued_items += 1
        self.queued_bytes += len(text)
        if was_empty:  # the sender waits on ``wake`` only with nothing to send
            conn.wake.set()

    def cut_lagging(self) -> None:
        """Cut the connections whose oldest unsent notification the node's queue no longer
        holds: more than ``queue_capacity_items`` notifications, or more than
        ``queue_capacity_bytes`` bytes of them, were queued from it on (it included), as
        Agave's ``RecentItems`` counts them. Agave's handler then fails (``Lagged`` or
        ``NotificationIsGone``) and drops the connection: the socket is closed without a
        close frame, what was written before it still delivered."""
        p, now = self.profile, time.monotonic()
        for conn in list(self.conns):
            if conn.lagged or not conn.notes:
                continue
            due, _, items, size = conn.notes[0]
            if due > now:  # still on its way (the latency model): the node has sent it
                continue
            if (
                self.queued_items - items <= p.queue_capacity_items
                and self.queued_bytes - size <= p.queue_capacity_bytes
            ):
                continue
            conn.lagged = True
            conn.notes.clear()  # what the node's queue dropped
            self.stats["lagged"] += 1
            log.info(
                "%s: a PubSub client lagged behind (notification is gone): disconnected",
                self.profile.name,
            )
            transport = conn.ws._req.transport if conn.ws._req else None
            if transport is not None:
                transport.close()

    def pubsub_call(self, conn: _Conn, text: str) -> Any:
        """One PubSub message answered as jsonrpc-core answers it (None: nothing to send,
        a notification or a batch of them)."""
        return N.answer_text(
            text, lambda method, params: self._pubsub_method(conn, method, params), TAKE_NONE
        )

    def _pubsub_method(self, conn: _Conn, method: str, params: list[Any]) -> Any:
        """One PubSub request (Agave ``rpc_pubsub.rs``): its result, or RpcFault."""
        p = self.profile
        if p.refuse_subscriptions and method.endswith("Subscribe"):
            raise RpcFault(METHOD_NOT_FOUND, "Method not found")
        if (
            p.max_subscriptions is not None
            and method.endswith("Subscribe")
            and len(conn.subs) >= p.max_subscriptions
        ):
            self.stats["over_cap"] += 1
            conn.capped = p.cap_answer == "close"
            raise RpcFault(N.INTERNAL_ERROR, SUBSCRIPTION_LIMIT)
        if method.endswith("Unsubscribe") and method[: -len("Unsubscribe")] in _KINDS:
            N.exactly(params, 1)
            sid = N.expect_u64(params[0])
            if sid not in conn.subs:  # the node looks the id up whatever its kind
                raise RpcFault(INVALID_PARAMS, "Invalid subscription id.")
            kind, key = conn.subs.pop(sid)
            self.tables[kind].get(key, {}).pop((conn, sid), None)
            return True
        if method == "accountSubscribe":
            N.arity(params, 1, 2)
            opts = _opts(N.config(params, 1, N.ACCOUNT_CONFIG))
            return self._add(conn, "account", _sub_key(params[0], "pubkey"), opts)
        if method == "programSubscribe":
            N.arity(params, 1, 2)
            cfg = N.config(params, 1, N.PROGRAM_CONFIG)
            opts = _opts(cfg)
            program = N.expect_str(params[0])
            try:
                filters = N.parse_filters(cfg.get("filters"))
            except RpcFault as f:  # PubSub's words: what the filter check says, as params
                if f.message.startswith("Invalid params:"):
                    raise
                raise RpcFault(INVALID_PARAMS, f"Invalid params: {f.message}") from None
            program = _sub_key(program, "pubkey")
            return self._add(
                conn, "program", program, dataclasses.replace(opts, filters=tuple(filters))
            )
        if method == "logsSubscribe":
            N.arity(params, 1, 2)
            which = params[0]
            level = N.commitment(N.config(params, 1, "RpcTransactionLogsConfig"))
            if isinstance(which, str):
                N.variant(which, ("all", "allWithVotes", "mentions"))
                if which == "mentions":
                    raise N.invalid_params(
                        "Invalid params: invalid type: unit variant, expected newtype variant."
                    )
                return self._add(conn, "logs", "", _Opts(level=level))
            if not isinstance(which, dict) or set(which) != {"mentions"}:
                raise N.type_error(which, "enum RpcTransactionLogsFilter")
            keys = which["mentions"]
            if not isinstance(keys, list):
                raise N.type_error(keys, "a sequence")
            if len(keys) != 1:
                raise RpcFault(INVALID_PARAMS, "Invalid Request: Only 1 address supported")
            return self._add(conn, "logs", _sub_key(keys[0], "mentions"), _Opts(level=level))
        if method in ("slotSubscribe", "rootSubscribe", "slotsUpdatesSubscribe"):
            N.no_params(params)
            return self._add(conn, method[: -len("Subscribe")], "", _Opts())
        if method == "signatureSubscribe":
            N.arity(params, 1, 2)
            level = N.commitment(N.config(params, 1, "RpcSignatureSubscribeConfig"))
            sig = _sub_key(params[0], "signature", N.parse_signature)
            sid = self._add(conn, "signature", sig, _Opts(level=level))
            done = self.server.chain.statuses.get(sig)
            if (
                done is not None
                and level == "finalized"
                and (done[0] > self.server.context_slot("finalized"))
            ):
                done = None  # processed, not yet rooted: notified when its slot is
            if done is not None:  # already processed: notified right after this answer
                conn.after.append(_signature_notification(sid, *done))
                self.tables["signature"][sig].pop((conn, sid), None)
                conn.subs.pop(sid, None)  # a signature subscription ends with its notification
            return sid
        if method == "getVersion":
            N.no_params(params)
            return VERSION
        raise RpcFault(METHOD_NOT_FOUND, "Method not found")

    def _add(self, conn: _Conn, kind: str, key: str, opts: _Opts) -> int:
        self.next_id += 1
        conn.subs[self.next_id] = (kind, key)
        self.tables[kind].setdefault(key, {})[(conn, self.next_id)] = opts
        return self.next_id

    # ------------------------------------------------------------ publishing
    def publish(
        self, res: SlotResult, values: dict[str, str], rooted: Rooted | None = None
    ) -> None:
        """Queue the slot's notifications for every subscriber, after this endpoint's
        latency (one delay per slot, so each connection stays in order); with ``rooted``,
        the slot that became the root this slot, for the subscriptions at ``finalized``."""
        p, r = self.profile, self.rng
        due = time.monotonic() + max(0.0, p.latency_ms + abs(r.gauss(0.0, p.jitter_ms))) / 1e3
        due += p.lag_slots * self.server.slot_seconds
        self.slots_published += 1
        if p.freeze_slot_after is not None and self.slots_published == p.freeze_slot_after:
            self.frozen_slot = res.slot
        if self.geyser is not None:  # the same slot, at the same time, on its gRPC streams
            recs = self.server.geyser_records
            root = recs.get(res.slot - ROOT_DISTANCE) if rooted is not None else None
            self.geyser.publish(recs[res.slot], due, root)
        out = self.render(res, values, faults=True) + self.hostile(res)
        if rooted is not None:
            out += self.render(rooted.res, rooted.values, faults=True, rooted=rooted)
        for conn, text in out:
            if p.drop_rate and r.random() < p.drop_rate:
                self.stats["dropped"] += 1
                continue
            if (
                p.account_drop_rate
                and '"accountNotification"' in text[:64]
                and r.random() < p.account_drop_rate
            ):
                self.stats["dropped"] += 1
                continue
            if p.malformed_rate and r.random() < p.malformed_rate:
                text = text[: len(text) // 2]
            self.stats["notifications"] += 1
            self._note(conn, due, text)
        self.cut_lagging()

    def render(
        self,
        res: SlotResult,
        values: dict[str, str],
        faults: bool = False,
        rooted: Rooted | None = None,
    ) -> list[tuple[_Conn, str]]:
        """The slot's notifications, in order, for every subscriber (with this endpoint's
        wrong accounts when ``faults``): those at ``processed``, then those at
        ``confirmed`` (a node notifies a level when its bank reaches it: ``processed``
        first, whatever the kind); with ``rooted`` (``res`` is the slot that just became
        the root, its accounts as they were then), those at ``finalized``."""
        p, r = self.profile, self.rng
        out: list[tuple[_Conn, str]] = []
        later: list[tuple[_Conn, str]] = []  # the confirmed subscriptions'
        final = rooted is not None

        def mine(opts: _Opts) -> bool:
            return (opts.level == "finalized") == final

        def to(opts: _Opts) -> list[tuple[_Conn, str]]:
            return later if opts.level == "confirmed" else out

        slot = self.frozen_slot if faults and self.frozen_slot is not None else res.slot
        if faults and p.rewind_after is not None and self.slots_published >= p.rewind_after:
            slot = max(slot - p.rewind_slots, 1)
        first = self.server.world.config.first_slot
        if not final:
            for conn, sid in self.tables["slot"].get("", {}):
                out.append((conn, _slot_notification(sid, slot, first)))
            for conn, sid in self.tables["slotsUpdates"].get("", {}):
                out.extend(
                    (conn, _notification("slotsUpdatesNotification", sid, u))
                    for u in _slot_updates(res, first)
                )
            if res.slot - ROOT_DISTANCE > first:  # a new root (the first slot is one)
                for conn, sid in self.tables["root"].get("", {}):
                    note = _notification("rootNotification", sid, res.slot - ROOT_DISTANCE)
                    out.append((conn, note))
        accounts: Mapping[str, Account] = (
            self.server.world.accounts if rooted is None else rooted.accounts
        )
        for pubkey in res.changed:
            subs = self.account_subs.get(pubkey)
            if subs:
                value = values[pubkey]
                for (conn, sid), opts in subs.items():
                    if not mine(opts):
                        continue
                    if not opts.plain:
                        now = accounts.get(pubkey) or _closed()
                        shown = self.server.ui_account(pubkey, opts, now)
                        to(opts).append((conn, account_notification(sid, res.slot, shown)))
                        continue
                    if faults and p.bad_account_rate and r.random() < p.bad_account_rate:
                        value = self.server.bad_value(pubkey, r)
                    elif faults and p.skew_rate and r.random() < p.skew_rate:
                        value = self.server.skewed_value(pubkey, r)
                    if faults and p.unknown_rate and r.random() < p.unknown_rate:
                        sid += 1_000_003  # an id this connection was never given
                    to(opts).append((conn, account_notification(sid, res.slot, value)))
                    value = values[pubkey]
            acc = accounts.get(pubkey)
            watchers = self.program_subs.get(acc.owner) if acc is not None else None
            if watchers and acc is not None:
                for (conn, sid), opts in watchers.items():
                    if mine(opts) and all(f.allows(acc.owner, acc.data) for f in opts.filters):
                        shown = (
                            values[pubkey]
                            if opts.plain
                            else self.server.ui_account(pubkey, opts, acc)
                        )
                        note = _program_notification(sid, res.slot, pubkey, shown)
                        to(opts).append((conn, note))
        everything = {k: o for k, o in self.logs_subs.get("", {}).items() if mine(o)}
        for tx in res.landed:
            value = json.dumps({"signature": tx.signature, "err": tx.err, "logs": list(tx.logs)})
            # a ``mentions`` subscription hears of a transaction naming its address among
            # any of its account keys, static or looked up (Agave's log collector matches
            # ``transaction.account_keys()``), not only the programs it invoked
            mentioned = [
                (k, o)
                for key in (tx.keys or tx.programs)
                for k, o in self.logs_subs.get(key, {}).items()
                if mine(o)
            ]
            for (conn, sid), o in [*mentioned, *everything.items()]:
                to(o).append((conn, _logs_notification(sid, res.slot, value)))
            waiting = self.sig_subs.get(tx.signature, {})
            for (conn, sid), opts in list(waiting.items()):
                if not mine(opts):
                    continue
                del waiting[(conn, sid)]
                conn.subs.pop(sid, None)  # a signature subscription ends with its notification
                to(opts).append((conn, _signature_notification(sid, tx.slot, tx.err)))
            if not waiting:
                self.sig_subs.pop(tx.signature, None)
        pools = self.server.world.by_address
        for t in res.trades:  # a market's swap names its program, pool and vaults
            pool = pools.get(t.pool)
            named = (
                (t.program, t.pool)
                if pool is None
                else (t.program, t.pool, pool.vault_a, pool.vault_b)
            )
            subs = {
                k: o for key in named for k, o in self.logs_subs.get(key, {}).items() if mine(o)
            }
            if not subs and not everything:
                continue
            lines = t.logs or (
                f"Program {t.program} invoke [1]",
                t.log,
                f"Program {t.program} success",
            )
            logs = json.dumps({"signature": t.signature, "err": None, "logs": list(lines)})
            for (conn, sid), o in [*subs.items(), *everything.items()]:
                to(o).append((conn, _logs_notification(sid, res.slot, logs)))
        for f in res.failed:  # a failed swap names its program and pool
            subs = {
                k: o
                for key in (f.program, f.pool)
                for k, o in self.logs_subs.get(key, {}).items()
                if mine(o)
            }
            if subs or everything:
                logs = json.dumps({"signature": f.signature, "err": f.err, "logs": list(f.logs)})
                for (conn, sid), o in [*subs.items(), *everything.items()]:
                    to(o).append((conn, _logs_notification(sid, res.slot, logs)))
        return out + later if later else out

    def hostile(self, res: SlotResult) -> list[tuple[_Conn, str]]:
        """The lies of a hostile endpoint this slot (``future_after``, ``repoint_rate``):
        frames a healthy node never sends, each plausible on its own."""
        p, r, w = self.profile, self.rng, self.server.world
        if p.future_after is None and not p.repoint_rate:
            return []
        pools = {pool.address for pool in w.pools}
        out: list[tuple[_Conn, str]] = []
        for conn in list(self.conns):
            mine = [
                (sid, key)
                for sid, (kind, key) in conn.subs.items()
                if kind == "account" and key in pools
            ]
            if p.future_after is not None and not conn.lied and conn.sent >= p.future_after:
                conn.lied = True
                ahead = res.slot + p.future_slots
                for sid, (kind, _) in conn.subs.items():
                    if kind == "slot":
                        out.append((conn, _slot_notification(sid, ahead)))
                if mine:
                    sid, key = mine[0]
                    value = w.accounts[key].value_json()
                    out.append((conn, account_notification(sid, ahead, value)))
            if mine and p.repoint_rate and r.random() < p.repoint_rate:
                sid, key = r.choice(mine)
                lie = self.server.repointed(key, r)
                out.append((conn, account_notification(sid, res.slot, lie)))
        return out

    async def flood(self, frames_of: dict[_Conn, list[bytes]], rate: float, log: list[int]) -> None:
        """Write pre-rendered notifications, already framed as unmasked WebSocket text
        frames (RFC 6455 §5.2: :func:`_ws_frame`, when the flood was rendered), straight to
        each connection's socket, bypassing the per-message send path so the server is
        never the bottleneck of a throughput measurement (nor its own CPU on the cores the
        client shares while the flood is written).
        ``rate`` > 0 paces them (messages/s per connection) and logs the monotonic ns
        just before each write in ``log``; 0 writes in 256 KiB chunks as fast as the
        socket drains."""
        for conn, frames in frames_of.items():
            transport = conn.ws._req.transport if conn.ws._req else None
            if transport is None or transport.is_closing():
                continue
            if rate > 0:
                start = time.monotonic()
                for i, f in enumerate(frames):
                    delay = start + i / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    # stamped before the write: once written, the client may take the
                    # frame before this process runs again (on a busy machine it often
                    # did, and a stamp after the write made latencies negative)
                    log.append(time.monotonic_ns())
                    transport.write(f)
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
IDENTITY_KEYS = {752: (336, 368, 400, 432), 637: (72, 104, 168, 200), 653: (101, 133, 181, 213)}


def _slot_notification(sid: int, slot: int, first: int = 0) -> str:
    """A ``slotNotification`` (its root never before the first slot: a node starts
    with its genesis as the root)."""
    root = max(first, slot - ROOT_DISTANCE)
    return (
        '{"jsonrpc":"2.0","method":"slotNotification","params":{"result":'
        f'{{"parent":{slot - 1},"root":{root},"slot":{slot}}},'
        f'"subscription":{sid}}}}}'
    )


def _notification(method: str, sid: int, result: Any) -> str:
    """A notification without a context wrapper (slot updates, roots)."""
    return json.dumps(
        {"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": sid}}
    )


def _logs_notification(sid: int, slot: int, value_json: str) -> str:
    return (
        '{"jsonrpc":"2.0","method":"logsNotification","params":'
        f'{{"result":{{"context":{{"slot":{slot}}},"value":{value_json}}},'
        f'"subscription":{sid}}}}}'
    )


def _program_notification(sid: int, slot: int, pubkey: str, account_json: str) -> str:
    return (
        '{"jsonrpc":"2.0","method":"programNotification","params":{"result":{"context":'
        f'{{"slot":{slot}}},"value":{{"pubkey":"{pubkey}","account":{account_json}}}}},'
        f'"subscription":{sid}}}}}'
    )


def _slot_updates(res: SlotResult, first: int = 0) -> list[dict[str, Any]]:
    """``slotsUpdatesNotification`` results for one slot, in the order a node sends them
    (``SlotUpdate``: timestamps in unix milliseconds)."""
    ms = int(time.time() * 1000)
    failed = sum(1 for t in res.landed if t.err is not None)
    done = len(res.trades) + len(res.landed) - failed
    s = res.slot
    stats = {
        "numTransactionEntries": done + failed,
        "numSuccessfulTransactions": done,
        "numFailedTransactions": failed,
        "maxTransactionsPerEntry": 1,
    }
    return [
        {"type": "firstShredReceived", "slot": s, "timestamp": ms},
        {"type": "completed", "slot": s, "timestamp": ms},
        {"type": "createdBank", "slot": s, "parent": s - 1, "timestamp": ms},
        {"type": "frozen", "slot": s, "timestamp": ms, "stats": stats},
        {"type": "optimisticConfirmation", "slot": s, "timestamp": ms},
        *(
            [{"type": "root", "slot": s - ROOT_DISTANCE, "timestamp": ms}]
            if s - ROOT_DISTANCE > first  # a new root (the first slot is one)
            else []
        ),
    ]


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


@dataclass(frozen=True, slots=True)
class Rooted:
    """A published slot kept until it becomes the root: its result, its changed accounts
    as JSON (base64) and as they were then."""

    res: SlotResult
    values: dict[str, str]
    accounts: dict[str, Account]


def _copy(acc: Account) -> Account:
    """A copy of an account as it is now (the world changes its accounts in place)."""
    return Account(acc.owner, acc.data, acc.lamports, acc.executable)


def _closed() -> Account:
    """What a node notifies for an account closed in a slot (a lookup table closed): the
    default account — no lamports, no data, the system program's."""
    return Account(I.SYSTEM_PROGRAM, b"", 0)


def slot_record(
    res: SlotResult,
    accounts: Mapping[str, Account],
    chain: Chain | None = None,
    write_version: int = 0,
) -> SlotRecord:
    """One slot as the gRPC services send it: its changed accounts as they were then, its
    transactions in the block's order — what landed through the chain whole (body and
    meta from its ledger), then the market's swaps and failed swaps (no body: their
    logs as the PubSub ``logsNotification`` carries them).

    Each account carries the chain's ``write_version`` (one counter over every account:
    ``write_version`` is the last one given before this slot) and the transaction that
    wrote it: the last of the slot's landed transactions to lock it writable, or of the
    market's swaps through its pool. As Yellowstone does, an account a landed
    transaction locked writable and that does not exist (an uninitialized tick array
    a swap names) is sent too, owned by the system program with no data."""
    txs: list[TxRecord] = []
    writer: dict[str, str] = {}
    named: list[str] = []
    for tx in res.landed:
        stored = chain.ledger.get(tx.signature) if chain is not None else None
        if stored is None:
            txs.append(TxRecord(tx.signature, tx.err, tuple(tx.logs), tx.keys or tx.programs))
            continue
        assert chain is not None
        body, meta = transaction_parts(stored, chain.world.decimals)
        txs.append(TxRecord(tx.signature, tx.err, tuple(tx.logs), tx.keys, body, meta))
        for k in stored.writable():
            writer[k] = tx.signature
            named.append(k)
    pools = {p.address: p for p in chain.world.pools} if chain is not None else {}
    for t in res.trades:
        lines = t.logs or (f"Program {t.program} invoke [1]", t.log, f"Program {t.program} success")
        txs.append(TxRecord(t.signature, None, tuple(lines), (t.program,)))
        pool = pools.get(t.pool)
        if pool is not None:
            for k in (pool.address, pool.vault_a, pool.vault_b, *pool.tick_arrays):
                writer[k] = t.signature
    txs += [TxRecord(f.signature, f.err, tuple(f.logs), (f.program,)) for f in res.failed]
    changed = set(res.changed)
    absent = [
        k
        for k in dict.fromkeys(named)
        if k not in changed and chain is not None and chain.world.accounts.get(k) is None
    ]
    accs = []
    for k in [*res.changed, *absent]:
        a = accounts.get(k) or _closed()
        write_version += 1
        accs.append(AccountRecord(k, a.owner, a.lamports, a.data, write_version, writer.get(k)))
    return SlotRecord(res.slot, tuple(accs), tuple(txs))


def _now(world: World, key: str) -> Account:
    acc = world.accounts.get(key)
    return _closed() if acc is None else acc


class _Rooted(Mapping[str, Account]):
    """The accounts as of slot ``root``: each one's newest recorded value at or before
    it, else its value at the start (an account created since did not exist then)."""

    def __init__(self, server: SimServer, root: int) -> None:
        self.server, self.root = server, root

    def __getitem__(self, key: str) -> Account:
        for slot, acc in reversed(self.server.history.get(key, ())):
            if slot <= self.root:
                if acc is None:  # closed by then
                    raise KeyError(key)
                return acc
        if key in self.server.history:  # every change came after the root
            before = self.server.genesis.get(key)
            if before is None:
                raise KeyError(key)
            return before
        if key in self.server.genesis:
            return self.server.world.accounts[key]  # never changed since the start
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        for k in self.server.world.accounts:
            if k in self:
                yield k

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True


def server_context(cert_file: str, key_file: str | None = None) -> ssl.SSLContext:
    """A TLS server context from a PEM certificate chain and its key (in ``cert_file``
    when ``key_file`` is None); ValueError saying which file is wrong."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert_file, key_file)
    except FileNotFoundError as exc:
        raise ValueError(f"{exc.filename or cert_file}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        files = cert_file if key_file is None else f"{cert_file} / {key_file}"
        why = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise ValueError(f"{files}: not a PEM certificate chain and its key ({why})") from None
    return ctx


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
        tls: ssl.SSLContext | tuple[str, str | None] | None = None,
        grpc: bool = False,
        grpc_ping_s: float = 10.0,
        grpc_replay_slots: int = 150,
        grpc_x_token: str | None = None,
    ) -> None:
        # Yellowstone gRPC beside PubSub on every endpoint (feeds.sim.geyser): each its own
        # port; its ping interval, replay store (0: from_slot unsupported) and x-token
        self.grpc, self.grpc_ping_s = grpc, grpc_ping_s
        self.grpc_replay_slots, self.grpc_x_token = grpc_replay_slots, grpc_x_token
        # the published slots as the gRPC services read them (the last 33: roots too)
        self.geyser_records: dict[int, SlotRecord] = {}
        self.write_version = 0  # the last write_version given (one counter, every account)
        # TLS (``https://`` and ``wss://`` on each endpoint's one port): a server context,
        # or (certificate chain file, key file or None when the chain file holds it)
        self.tls = server_context(*tls) if isinstance(tls, tuple) else tls
        self.world = World(config)
        # the real programs as the chain's bank (``WorldConfig.programs``: a folder of
        # binaries; feeds.sim.bank.ProgramsError for one that cannot be used)
        bank = None
        if self.world.config.programs:
            from .bank import Bank

            bank = Bank.from_folder(self.world.config.programs)
        self.chain = Chain(self.world, accept_transactions, bank)
        self.tx_delay_s = 0.0  # answer simulate/send this much later (a slow node)
        # the block engines' rate-limit clock (seconds; tests drive their own)
        self.jito_clock: Callable[[], float] = time.monotonic
        self.slot_times: dict[int, int] = {self.world.slot: int(time.time())}  # getBlockTime
        # bench mode: no slot clock; the market moves only when a client asks for a
        # flood (``simFlood``), for throughput and latency measurements (bench/e2e.py)
        self.bench = bench
        self._floods: list[asyncio.Task[None]] = []
        self._flood_log: list[list[int]] = []
        self._grpc_log: list[list[int]] = []  # the same for the gRPC streams' updates
        c = self.world.config
        self.slot_seconds = c.slot_seconds if slot_seconds is None else slot_seconds
        self.host, self.port = host, port
        profiles = list(profiles) if profiles is not None else default_profiles(3)
        self.endpoints = [_Endpoint(self, p, c.seed * 1000 + i) for i, p in enumerate(profiles)]
        # per slot: the lowest CU price that landed, and per account locked writable the
        # lowest price of a transaction that locked it (micro-lamports per CU)
        self.fees: deque[tuple[int, int, dict[str, int]]] = deque(maxlen=FEE_SLOTS)
        self.transaction_count = 0  # transactions the simulated cluster has processed
        # what reads at ``finalized`` see: each account as it was at the start, and its
        # values since (slot, copy), trimmed to the newest one at or before the root
        self.genesis = {k: _copy(a) for k, a in self.world.accounts.items()}
        self.history: dict[str, list[tuple[int, Account | None]]] = {}  # None: closed
        # the last slots as published, for the subscriptions at finalized (each slot
        # reaches them when it becomes the root, ROOT_DISTANCE slots later)
        self.recent: deque[Rooted] = deque(maxlen=ROOT_DISTANCE + 1)
        self._clock: asyncio.Task[None] | None = None
        self.running = False

    async def start(self) -> list[EndpointInfo]:
        """Listen (consecutive ports from ``port`` when it is set, ephemeral otherwise)
        and start the slot clock; the endpoints' URLs. The log says which real programs
        run its transactions (and which binaries it refused), one line each."""
        bank = self.chain.bank
        for line in bank.describe() if bank is not None else ():
            log.info("simulator: %s", line)
        for i, ep in enumerate(self.endpoints):
            await ep.start(self.host, self.port + i if self.port else 0, self.tls)
            if self.grpc:
                n = len(self.endpoints)
                ep.geyser = GeyserService(
                    ep.profile,
                    self.world.config.seed * 1000 + i,
                    self.grpc_ping_s,
                    self.grpc_replay_slots,
                    self.grpc_x_token,
                    blocks=self.chain,
                )
                await ep.geyser.start(self.host, self.port + n + i if self.port else 0)
        self.running = True
        if not self.bench:
            self._clock = asyncio.create_task(self._run_clock())
        return self.infos()

    def infos(self) -> list[EndpointInfo]:
        s = "s" if self.tls is not None else ""
        return [
            EndpointInfo(
                ep.profile.name,
                f"http{s}://{self.host}:{ep.port}",
                f"ws{s}://{self.host}:{ep.port}",
                f"grpc://{self.host}:{ep.geyser.port}" if ep.geyser is not None else "",
            )
            for ep in self.endpoints
        ]

    async def stop(self) -> None:
        self.running = False
        st = self.chain.stats
        if self.chain.bank is not None:  # the split, said once at the end
            log.info("simulator: %s", st.bank_split())
        if self.world.competition is not None:  # what the rivals did
            log.info("simulator: rivals %s", self.world.competition.tally())
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        for t in self._floods:
            t.cancel()
        for ep in self.endpoints:
            if ep.geyser is not None:
                await ep.geyser.stop()
            await ep.stop()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run_clock(self) -> None:
        """A slot every ``slot_seconds``. A market too big to step in a slot stretches
        its slots, as a node that falls behind does, and never starves the sockets: a
        node produces blocks and answers RPC on threads of their own, one loop here, so
        after each step the loop gets at least ``SERVE_SHARE`` of the step's time to
        itself (requests, answers, notifications); no burst of slots to catch up."""
        nxt = time.monotonic()
        while True:
            began = time.monotonic()
            self.step()
            now = time.monotonic()
            nxt = max(nxt + self.slot_seconds, now + SERVE_SHARE * (now - began))
            await asyncio.sleep(nxt - now)

    def step(self) -> SlotResult:
        """Advance the world one slot and publish it on every endpoint."""
        # accounts changed between slots (an airdrop, the faucet) count in the slot
        # they were changed in; then the slot's own
        self.remember(self.world._touched, self.world.slot)
        res = self.world.step()
        self.remember(res.changed, res.slot)
        self.transaction_count += len(res.trades) + len(res.landed)
        self.slot_times[res.slot] = int(time.time())
        while len(self.slot_times) > FEE_SLOTS * 4:
            self.slot_times.pop(next(iter(self.slot_times)))
        self.fees.append(self.fee_sample(res))
        values = {k: _now(self.world, k).value_json() for k in res.changed}
        copies = {k: _copy(_now(self.world, k)) for k in res.changed}
        self.recent.append(Rooted(res, values, copies))
        if self.grpc:
            rec = slot_record(res, copies, self.chain, self.write_version)
            self.write_version += len(rec.accounts)
            self.geyser_records[res.slot] = rec
            self.geyser_records.pop(res.slot - ROOT_DISTANCE - 1, None)
        rooted = self.recent[0] if self.recent[0].res.slot == res.slot - ROOT_DISTANCE else None
        for ep in self.endpoints:
            ep.publish(res, values, rooted)
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
        for off in IDENTITY_KEYS.get(len(data), ()):
            data[off : off + 32] = r.randbytes(32)
        v = acc.value()
        v["data"] = [base64.b64encode(bytes(data)).decode(), "base64"]
        return json.dumps(v)

    # ------------------------------------------------------------ HTTP methods
    def context(self, slot: int | None = None) -> dict[str, Any]:
        return {"apiVersion": "3.1.12", "slot": self.world.slot if slot is None else slot}

    def ui_account(self, pubkey: str, opts: Any, acc: Account | None = None) -> str:
        """``pubkey``'s account (now, or ``acc``) as a subscription with ``opts``
        (encoding, slice) sees it, as JSON text."""
        acc = self.world.accounts[pubkey] if acc is None else acc
        return json.dumps(
            N.ui_account(acc, opts.encoding, opts.cut, self.decimals_of, check_base58=False)
        )

    def decimals_of(self, mint: str) -> int | None:
        """A mint's decimals read from its account (None: not an initialized mint; a
        Token-2022 mint with extensions is longer: its account type, 1, at byte 165)."""
        acc = self.world.accounts.get(mint)
        if acc is None or acc.owner not in N.TOKEN_PROGRAMS or len(acc.data) < 82:
            return None
        if len(acc.data) != 82 and (len(acc.data) <= TOKEN_ACCOUNT_LEN or acc.data[165] != 1):
            return None
        return acc.data[44] if acc.data[45] else None

    def context_slot(self, level: str) -> int:
        """The slot a request at commitment ``level`` is answered from: the newest slot
        for ``processed`` and ``confirmed`` (the simulated cluster has no forks), its root
        ``ROOT_DISTANCE`` slots back for ``finalized`` (never before the first slot)."""
        if level == "finalized":
            return max(self.world.config.first_slot, self.world.slot - ROOT_DISTANCE)
        return self.world.slot

    def state_slot(self, level: str) -> int:
        """The context slot of a read of account state at ``level`` (its bank's)."""
        return self.context_slot(level)

    def remember(self, keys: Sequence[str], slot: int) -> None:
        """Record the accounts ``keys`` as they are now, as of ``slot``, for reads at
        ``finalized`` (older values than the root's are dropped)."""
        root = self.context_slot("finalized")
        for k in dict.fromkeys(keys):
            acc = self.world.accounts.get(k)
            if acc is None and k not in self.history and k not in self.genesis:
                continue  # never existed
            value = None if acc is None else _copy(acc)
            entries = self.history.setdefault(k, [])
            if entries and entries[-1][0] == slot:
                entries[-1] = (slot, value)
            else:
                entries.append((slot, value))
            while len(entries) > 1 and entries[1][0] <= root:
                entries.pop(0)

    def accounts_at(self, level: str) -> Mapping[str, Account]:
        """Every account as a read at ``level`` sees it: the newest for ``processed`` and
        ``confirmed``, as of the root for ``finalized``."""
        if level != "finalized":
            return self.world.accounts
        return _Rooted(self, self.context_slot("finalized"))

    def bank_slot(
        self, params: list[Any], at: int = 0, struct: str = N.CONTEXT_CONFIG, flat: bool = True
    ) -> int:
        """The slot of the bank a request reads (``params[at]``: its configuration with
        ``commitment`` and ``minContextSlot``, a ``struct``; ``flat``: its commitment
        flattened into it, see :func:`feeds.sim.node.commitment`), checked as a node
        checks it."""
        N.arity(params, at, at + 1)
        cfg = N.config(params, at, struct)
        slot = self.context_slot(N.commitment(cfg, flat=flat))
        N.min_context_slot(cfg, slot)
        return slot

    def read_accounts(self, method: str, params: list[Any]) -> dict[str, Any]:
        """``getAccountInfo`` / ``getMultipleAccounts`` (≤ 100 keys) with the node's
        encodings (default binary / base64), ``dataSlice``, ``minContextSlot`` and key
        checks; at ``finalized`` (the default) the accounts as of the root, and the root
        as the context slot."""
        N.arity(params, 1, 2)
        single = method == "getAccountInfo"
        cfg = N.config(params, 1, N.ACCOUNT_CONFIG)
        encoding = N.account_encoding(cfg, "binary" if single else "base64")
        cut = N.data_slice(cfg)
        level = N.commitment(cfg)
        keys = [N.expect_str(params[0])] if single else params[0]
        if not isinstance(keys, list):
            raise N.type_error(keys, "a sequence")
        if len(keys) > 100:
            raise RpcFault(INVALID_PARAMS, "Too many inputs provided; max 100")
        keys = [N.parse_pubkey(k) for k in keys]
        slot = self.state_slot(level)
        N.min_context_slot(cfg, slot)
        accounts = self.accounts_at(level)
        fast = encoding == "base64" and cut is None
        found = [accounts.get(k) for k in keys]
        vals = [
            None
            if a is None
            else a.value()
            if fast
            else N.ui_account(a, encoding, cut, self.decimals_of)
            for a in found
        ]
        return {"context": self.context(slot), "value": vals[0] if single else vals}

    def fee_sample(self, res: SlotResult) -> tuple[int, int, dict[str, int]]:
        """The slot's entry in the prioritization-fee cache: (slot, the lowest price that
        landed, each account's lowest price among the transactions that locked it
        writable): the market's swaps (:meth:`writable_fees`) and every transaction that
        landed through the chain — ours, the competitors' — at its compute-unit price."""
        accounts = self.writable_fees(res)
        low = res.priority_fee
        for tx in res.landed:
            stored = self.chain.ledger.get(tx.signature)
            if stored is None:
                continue
            price = self.chain.cu_price(stored.tx)
            low = min(low, price)
            for k in stored.writable():
                accounts[k] = min(accounts.get(k, price), price)
        return res.slot, low, accounts

    def writable_fees(self, res: SlotResult) -> dict[str, int]:
        """The lowest CU price among the slot's swaps that locked each account writable
        (a swap locks its pool, its vaults and, on a Whirlpool, its tick arrays). The
        world draws one price per slot, the lowest that landed; the first swap pays it and
        each other one that, or up to 1.5 times more, from its signature (no draw from the
        world's generator, so the market is the same as without this)."""
        out: dict[str, int] = {}
        base = res.priority_fee
        for i, t in enumerate(res.trades):
            h = int.from_bytes(hashlib.sha256(t.signature.encode()).digest()[:4], "little")
            price = base if i == 0 else base + (h % 4) * max(base, 1_000) // 2
            pool = self.world.by_address.get(t.pool)
            keys = (
                [t.pool]
                if pool is None
                else [pool.address, pool.vault_a, pool.vault_b, *pool.tick_arrays]
            )
            for k in keys:
                out[k] = min(out.get(k, price), price)
        return out

    def recent_prioritization_fees(self, params: list[Any]) -> list[dict[str, Any]]:
        """``getRecentPrioritizationFees [lockedWritableAccounts?]`` as a node's fee cache
        answers it: per recent slot, the lowest price that landed, raised to the highest
        of the given accounts' own lowest prices where transactions locked them writable
        (at most 128 accounts)."""
        N.arity(params, 0, 1)
        keys = params[0] if params and params[0] is not None else []
        if not isinstance(keys, list):
            raise N.type_error(keys, "a sequence")
        if len(keys) > MAX_TX_ACCOUNT_LOCKS:
            raise RpcFault(INVALID_PARAMS, f"Too many inputs provided; max {MAX_TX_ACCOUNT_LOCKS}")
        keys = [N.parse_pubkey(k) for k in keys]
        out = []
        for slot, fee, by_account in self.fees:
            for k in keys:
                fee = max(fee, by_account.get(k, 0))
            out.append({"slot": slot, "prioritizationFee": fee})
        return out

    def http_method(self, method: str, params: list[Any]) -> Any:
        if method == "getSlot":
            return self.bank_slot(params)
        if method == "getHealth":
            N.no_params(params)
            return "ok"
        if method == "getBlockTime":
            N.exactly(params, 1)  # ``slot: Slot``, required
            slot = N.expect_u64(params[0])
            if slot not in self.slot_times:
                raise RpcFault(-32004, f"Block not available for slot {slot}")
            return self.slot_times[slot]
        if method == "getVersion":
            N.no_params(params)
            return VERSION
        if method in ("getMultipleAccounts", "getAccountInfo"):
            return self.read_accounts(method, params)
        answer = METHODS.get(method)
        if answer is not None:
            return answer(self, params)
        if method == "getRecentPrioritizationFees":
            return self.recent_prioritization_fees(params)
        if method in _CHAIN_METHODS:
            try:
                return self._chain_method(method, params)
            except ChainError as exc:
                raise RpcFault(exc.code, exc.message, exc.data) from None
        if self.bench and method == "simFlood":
            return self._start_flood(params)
        if self.bench and method == "simFloodReport":
            done = all(t.done() for t in self._floods)
            return {
                "done": done,
                "writes": self._flood_log if done else [],
                "grpc_writes": self._grpc_log if done else [],
            }
        if self.bench and method == "simGrpcReady":  # streams with a filter, per endpoint
            return [
                0 if ep.geyser is None else sum(s.filter is not None for s in ep.geyser.streams)
                for ep in self.endpoints
            ]
        raise RpcFault(METHOD_NOT_FOUND, "Method not found")

    def _chain_method(self, method: str, params: list[Any]) -> Any:
        c = self.chain
        if method == "getLatestBlockhash":
            slot = self.bank_slot(params)
            bh = c.blockhash(slot)
            last = c.block_height(slot) + BLOCKHASH_SLOTS
            return {
                "context": self.context(slot),
                "value": {"blockhash": bh, "lastValidBlockHeight": last},
            }
        if method == "getBlockHeight":
            return c.block_height(self.bank_slot(params))
        if method == "isBlockhashValid":
            N.need(params, 1)
            slot = self.bank_slot(params, 1)
            ok = c.blockhash_valid(N.parse_hash(params[0]))
            return {"context": self.context(slot), "value": ok}
        if method == "getBalance":
            N.need(params, 1)
            slot = self.bank_slot(params, 1)
            level = N.commitment(N.config(params, 1))
            acc = self.accounts_at(level).get(N.parse_pubkey(params[0]))
            return {"context": self.context(slot), "value": 0 if acc is None else acc.lamports}
        if method == "getTokenAccountBalance":
            N.need(params, 1)
            slot = self.bank_slot(params, 1, N.COMMITMENT_CONFIG, flat=False)
            key = N.parse_pubkey(params[0])
            level = N.commitment(N.config(params, 1, N.COMMITMENT_CONFIG), flat=False)
            acc = self.accounts_at(level).get(key)
            if acc is None:
                raise RpcFault(INVALID_PARAMS, "Invalid param: could not find account")
            if acc.owner not in N.TOKEN_PROGRAMS or len(acc.data) < TOKEN_ACCOUNT_LEN:
                raise RpcFault(INVALID_PARAMS, "Invalid param: not a Token account")
            mint = N.b58encode(acc.data[:32])
            dec = self.decimals_of(mint)
            amount = int.from_bytes(acc.data[64:72], "little")
            value = N.ui_amount(amount, 0 if dec is None else dec)
            return {"context": self.context(slot), "value": value}
        if method == "getSignatureStatuses":
            statuses = c.signature_statuses(params, self.context_slot("finalized"))
            return {"context": self.context(), "value": statuses}
        if method == "simInfo":
            programs = (
                []
                if c.bank is None
                else [
                    {
                        "programId": p.program_id,
                        "file": p.path,
                        "sha256": p.sha256,
                        "refused": c.bank.refused.get(p.program_id),
                    }
                    for p in c.bank.loaded.values()
                ]
            )
            comp = self.world.competition
            rivals = self.world.rivals()
            return {
                "acceptsTransactions": c.accept,
                "slotSeconds": self.slot_seconds,
                "stats": dataclasses.asdict(c.stats),
                "programs": programs,
                "rivals": {"preset": rivals.preset, "label": "none", "roster": []}
                if comp is None
                else {**comp.info(rivals), "chain": dataclasses.asdict(c.rival_stats)},
            }
        if method == "simulateTransaction":
            return {"context": self.context(), "value": c.simulate(params)}
        if method == "simulateBundle":  # a jito-solana node's
            return {"context": self.context(), "value": c.simulate_bundle(params)}
        if method == "sendTransaction":
            return c.send(params)
        if method == "requestAirdrop":
            return c.airdrop(params)
        if method == "simFund":
            return c.fund(params)
        raise RpcFault(METHOD_NOT_FOUND, "Method not found")

    def jito_method(self, method: str, params: list[Any], engine: str = "") -> Any:
        """The block engine's methods (``/api/v1/bundles``, ``/api/v1/transactions``) at
        the engine (region) ``engine``."""
        try:
            if method == "getTipAccounts":
                return list(I.JITO_TIP_ACCOUNTS)
            if method == "sendBundle":
                return self.chain.send_bundle(params, engine)
            if method == "sendTransaction":
                return self.chain.send(params)
            value = self.chain.bundle_statuses(
                params, method == "getInflightBundleStatuses", engine
            )
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
        # framed as they are rendered: the flood's writes are only writes
        texts: list[dict[_Conn, list[bytes]]] = [{} for _ in self.endpoints]
        updates: list[dict[Any, list[bytes]]] = [{} for _ in self.endpoints]
        for _ in range(max(0, slots)):
            self.remember(self.world._touched, self.world.slot)
            res = self.world.step()
            self.remember(res.changed, res.slot)
            self.fees.append(self.fee_sample(res))
            values = {k: _now(self.world, k).value_json() for k in res.changed}
            now = {k: _now(self.world, k) for k in res.changed}
            rec = slot_record(res, now, self.chain, self.write_version)
            self.write_version += len(rec.accounts)
            for i, ep in enumerate(self.endpoints):
                for conn, text in ep.render(res, values):
                    texts[i].setdefault(conn, []).append(_ws_frame(text.encode()))
                if ep.geyser is not None:
                    for stream, raws in ep.geyser.render_all(rec).items():
                        updates[i].setdefault(stream, []).extend(raws)
        self._flood_log = [[] for _ in self.endpoints]
        self._grpc_log = [[] for _ in self.endpoints]
        loop = asyncio.get_running_loop()
        self._floods = [
            loop.create_task(ep.flood(texts[i], rate, self._flood_log[i]))
            for i, ep in enumerate(self.endpoints)
        ] + [
            loop.create_task(ep.geyser.flood(updates[i], rate, self._grpc_log[i]))
            for i, ep in enumerate(self.endpoints)
            if ep.geyser is not None
        ]
        return {
            "messages": [sum(len(v) for v in t.values()) for t in texts],
            "grpc": [sum(len(v) for v in u.values()) for u in updates],
        }

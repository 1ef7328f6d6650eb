"""One Yellowstone gRPC stream per endpoint: the Geyser ``Subscribe`` bidirectional
stream with the session's account, slot and transaction filters, feeding every update to
the ingest; pings answered; reconnect with backoff; resubscribe with ``from_slot``.

The worker never parses an update itself: each message's raw protobuf bytes go to
``ingest.grpc`` (the same engine path and dedup as a PubSub frame: a session can mix
PubSub and gRPC endpoints), which returns the update's kind and slot. A recording
session hands it a recording ingest, so the bytes are journaled where the engine sees
them, as PubSub frames are.

The request (``SubscribeRequest``) is the session's subscriptions in Yellowstone's terms:
one ``accounts`` filter naming every watched account, one ``slots`` filter with
``filter_by_commitment`` (one status a slot: the commitment's), one ``transactions``
filter with the DEX programs as ``account_include`` and ``vote: false``, at the
session's commitment. A new set (:meth:`GrpcWorker.update`) is sent as a new request on
the open stream: Yellowstone replaces the filter.

Pings: the server sends ``SubscribeUpdatePing`` (every 10 s in yellowstone-grpc); the
worker answers each with a ``SubscribeRequest`` carrying ``ping {id}`` (the server
answers a ``pong`` and keeps the filter). Liveness: the slot updates are the pulse; none
for ``stale_after_s`` ends the stream and the worker reconnects; HTTP/2 keepalive pings
every ``heartbeat_s`` catch a dead TCP path.

Reconnect: full-jitter backoff as the PubSub worker's (``attempt`` starts over only after
``healthy_after_s`` of pulses). The new stream asks ``from_slot`` = the highest slot the
last one delivered (inclusive: what arrives twice is a duplicate to the dedup), so the
server replays what the gap missed. A server that answers ``OUT_OF_RANGE`` (the slot is
older than its replay store) or "from_slot is not supported" gets the next stream
without it (and the pool's re-fetch after a reconnect covers the gap, as for PubSub).

Authentication: ``x_token`` goes as the ``x-token`` metadata of every call; it is a
secret: never logged or shown (errors are scrubbed of it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import grpc

from engine_rs.errors import EngineError

from ..health import HealthCounters
from ..redact import redact
from ..wire.geyser import geyser_pb2 as pb
from ..wire.protocol import Subscription
from .ingest import IngestCalls
from .pubsub import WorkerConfig, count_refused
from .ratelimit import RateGate
from .tls import client_context
from .transport import loop_was_held, read_what_came

SUBSCRIBE = "/geyser.Geyser/Subscribe"
ACCOUNT, SLOT, TRANSACTION, PING, PONG = 2, 3, 4, 6, 9  # the update_oneof's field numbers
COMMITMENT = {"processed": 0, "confirmed": 1, "finalized": 2}
FILTER = "arbscope"  # the name of each of its filters
YIELD_EVERY = 32  # updates handled before the worker lets the event loop run others
HEADERS_WAIT_S = 5.0  # the longest a stream's first request waits for the server's headers
_EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]  # (grpc-stubs lacks it)


def target(url: str) -> tuple[str, bool]:
    """``host:port`` of a gRPC URL and whether it is TLS: ``grpc://`` and ``http://`` are
    plaintext (default port 80), ``grpcs://`` and ``https://`` TLS (443)."""
    parts = urlsplit(url)
    if parts.scheme not in ("grpc", "http", "grpcs", "https") or not parts.hostname:
        raise ValueError(f"{redact(url)}: not a gRPC URL (grpc://, grpcs://, http://, https://)")
    tls = parts.scheme in ("grpcs", "https")
    port = parts.port or (443 if tls else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}", tls


def subscribe_request(
    subscriptions: Sequence[Subscription],
    commitment: str = "confirmed",
    from_slot: int | None = None,
    follow: Sequence[str] = (),
) -> Any:
    """The ``SubscribeRequest`` of the session's subscriptions (see the module docstring);
    ``follow``: programs whose every transaction is wanted too (the prop AMMs'), in the
    transaction filter beside the logs subscriptions' addresses."""
    req = pb.SubscribeRequest(commitment=COMMITMENT[commitment])  # type: ignore[arg-type]
    accounts = [s.label for s in subscriptions if s.method == "accountSubscribe"]
    programs = [s.label for s in subscriptions if s.method == "logsSubscribe"]
    programs += [p for p in follow if p not in programs]
    if accounts:
        req.accounts[FILTER].account.extend(accounts)
    if any(s.method == "slotSubscribe" for s in subscriptions):
        req.slots[FILTER].filter_by_commitment = True
    if programs:
        tx = req.transactions[FILTER]
        tx.vote = False
        tx.account_include.extend(programs)
    if from_slot is not None:
        req.from_slot = from_slot
    return req


class StreamEnded(Exception):
    """A native stream's end with the server's status (grpc.aio's ``AioRpcError`` face:
    ``code()``, ``details()``)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name} {details}")
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


_STATUS = {s.value[0]: s for s in grpc.StatusCode}
STATUS_AFTER_WRITE_S = 1.0  # how long a failed write waits for the server's status


class _KeepStatus:
    """A grpc.aio call's Core side, keeping the status the server sent.

    grpc.aio (1.85) ends a call whose request write failed with its own INTERNAL
    "Internal error from Core", written over the server's status when the server had
    ended the stream first (a ping's answer in flight as the server drops it,
    grpc/grpc#36066, fix proposed in grpc/grpc#43486). Here a failed write leaves a
    status already set as it is, and otherwise gives the server's the time it takes to
    come; only if none comes within ``STATUS_AFTER_WRITE_S`` is grpc.aio's set (which
    keeps the wait from hanging when Core sends none)."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    # every other member of the Core call, handed on as it is (written out: no lookup
    # by name on a stream's path; keep_server_status wraps only a call whose members
    # are all here)
    @property
    def _status(self) -> Any:
        return self._inner._status

    @property
    def _initial_metadata(self) -> Any:
        return self._inner._initial_metadata

    @property
    def _channel(self) -> Any:
        return self._inner._channel

    def __repr__(self) -> str:
        return repr(self._inner)

    def _repr(self) -> str:
        return str(self._inner._repr())

    def _handle_status_once_received(self) -> Any:
        return self._inner._handle_status_once_received()

    def add_done_callback(self, callback: Callable[[], Any]) -> None:
        self._inner.add_done_callback(callback)

    def cancel(self, details: str) -> None:
        self._inner.cancel(details)

    def cancelled(self) -> bool:
        return bool(self._inner.cancelled())

    def done(self) -> bool:
        return bool(self._inner.done())

    def initial_metadata(self) -> Any:
        return self._inner.initial_metadata()

    def initiate_stream_stream(self, *args: Any) -> Any:
        return self._inner.initiate_stream_stream(*args)

    def initiate_unary_stream(self, *args: Any) -> Any:
        return self._inner.initiate_unary_stream(*args)

    def is_locally_cancelled(self) -> bool:
        return bool(self._inner.is_locally_cancelled())

    def is_ok(self) -> bool:
        return bool(self._inner.is_ok())

    def receive_serialized_message(self) -> Any:
        return self._inner.receive_serialized_message()

    def send_receive_close(self) -> Any:
        return self._inner.send_receive_close()

    def send_serialized_message(self, message: bytes) -> Any:
        return self._inner.send_serialized_message(message)

    def status(self) -> Any:
        return self._inner.status()

    def stream_unary(self, *args: Any) -> Any:
        return self._inner.stream_unary(*args)

    def time_remaining(self) -> Any:
        return self._inner.time_remaining()

    def unary_unary(self, *args: Any) -> Any:
        return self._inner.unary_unary(*args)

    def set_internal_error(self, error: str) -> None:
        inner = self._inner
        if inner.done():
            return

        def unless_ended() -> None:
            if not inner.done():
                inner.set_internal_error(error)

        asyncio.get_running_loop().call_later(STATUS_AFTER_WRITE_S, unless_ended)


def keep_server_status(call: Any) -> None:
    """Make ``call`` report the server's status over a failed write's (see
    :class:`_KeepStatus`); a grpc.aio without the private part it wraps is left as is."""
    inner = getattr(call, "_cython_call", None)
    if inner is None:
        return
    members = {n for n in dir(type(inner)) if not n.startswith("__")}
    if "set_internal_error" in members and members <= _KEPT_MEMBERS:
        call._cython_call = _KeepStatus(inner)


_KEPT_MEMBERS = {n for n in vars(_KeepStatus) if not n.startswith("__")}


class _Requests:
    """The requests of one stream, as the async iterator grpc.aio reads them from (a plain
    iterator object, not a generator: the call's end leaves nothing to close)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._first: Callable[[], Awaitable[Any]] | None = None

    def put(self, req: Any) -> None:
        self._queue.put_nowait(req)

    def hold_until(self, headers: Callable[[], Awaitable[Any]]) -> None:
        """Write nothing before ``headers()`` (the call's initial metadata) is in, or
        ``HEADERS_WAIT_S`` passed. A server that refuses the call at once (a wrong
        x-token) ends it with its status before a first request is read; a write grpc.aio
        makes after that status fails, and grpc.aio then reports "INTERNAL: Internal
        error from Core" in place of the server's status (grpc/grpc#36066): the operator
        would read a wrong reason. Yellowstone (tonic) sends its headers as the call
        opens, so this costs no round trip."""
        self._first = headers

    def __aiter__(self) -> _Requests:
        return self

    async def __anext__(self) -> Any:
        first, self._first = self._first, None
        if first is not None:
            # the call's end, if that is what came, is the reader's to report
            with contextlib.suppress(Exception):
                await asyncio.wait_for(first(), HEADERS_WAIT_S)
        return await self._queue.get()


class GrpcWorker:
    """The stream of one endpoint (see the module docstring); the same face to the pool
    as :class:`~.pubsub.PubSubWorker`."""

    def __init__(
        self,
        endpoint: int,
        url: str,
        subscriptions: Sequence[Subscription],
        ingest: IngestCalls,
        counters: HealthCounters,
        config: WorkerConfig | None = None,
        seed: int = 0,
        commitment: str = "confirmed",
        x_token: str | None = None,
        gate: RateGate | None = None,
        on_transaction: Callable[[int, bytes], None] | None = None,
        follow: Sequence[str] = (),
    ) -> None:
        self.endpoint, self.url = endpoint, url
        # programs whose every transaction the stream asks for (the prop AMMs')
        self.follow = tuple(follow)
        # a transaction update's bytes go on to it (the rivals' fetcher reads the body)
        self.on_transaction = on_transaction
        self.target, self.tls = target(url)
        self.subs = list(subscriptions)
        self.ingest, self.counters = ingest, counters
        self.config = config or WorkerConfig()
        self.commitment = commitment
        self._x_token = x_token  # a secret: never logged, never shown
        self.gate = gate if gate is not None else RateGate()
        self.rng = random.Random(seed * 7919 + endpoint)
        self.cap: int | None = None  # (PubSub's subscription cap: gRPC has none)
        self.connects = 0
        self.attempt = 0
        self.backoffs: deque[float] = deque(maxlen=64)
        self.last_slot: int | None = None  # the highest slot delivered: from_slot
        self.from_slot_ok = True  # False once the server said it cannot replay
        self.replays = 0  # streams opened with from_slot
        self.asked: deque[int | None] = deque(maxlen=64)  # each stream's from_slot, in order
        self.pings = 0  # server pings answered
        self.pongs = 0
        self._outbox: _Requests | None = None  # the open stream's requests
        self._call: Any = None
        self._stopping = asyncio.Event()
        self._close_reason = ""
        self._open = False
        self._cut = False  # the worker cancelled the call itself (watchdog, stop)
        self._pulse_ns = 0
        self.fallback = ""  # why the native client was asked for and not used

    client = "aio"  # what receives the stream (NativeGrpcWorker: "native")

    # ------------------------------------------------------------ lifecycle
    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return (("x-token", self._x_token),) if self._x_token else ()

    def _channel(self) -> grpc.aio.Channel:
        c = self.config
        options = [
            ("grpc.max_receive_message_length", c.max_frame_bytes),
            ("grpc.keepalive_time_ms", int(c.heartbeat_s * 1000)),
            ("grpc.keepalive_timeout_ms", int(c.heartbeat_s * 1000)),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.enable_retries", 0),
        ]
        if self.tls:
            ca = None
            if c.ca_file:
                with open(c.ca_file, "rb") as fh:
                    ca = fh.read()
            client_context(c.ca_file)  # the same CA file check as the other clients
            creds = grpc.ssl_channel_credentials(root_certificates=ca)
            return grpc.aio.secure_channel(self.target, creds, options=options)
        return grpc.aio.insecure_channel(self.target, options=options)

    async def run(self) -> None:
        """Connect, stream, reconnect until :meth:`stop`."""
        c = self.config
        while not self._stopping.is_set():
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure is reported, none escapes
                if not self._stopping.is_set():
                    self._failed(exc)
            finally:
                self._close_reason = ""
                self._open = False
                self._call = None
                self._outbox = None
                self.counters.connected = False
                self.counters.subscriptions = 0
                self.ingest.unbind(self.endpoint)
            if self._stopping.is_set():
                break
            self.counters.reconnects += 1
            cap = min(c.backoff_max_s, c.backoff_min_s * 2 ** min(self.attempt, 32))
            self.attempt += 1
            self.backoffs.append(cap)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.rng.uniform(0.0, cap))

    async def _session(self) -> None:
        """One stream, until it ends (raises why)."""
        async with self._channel() as channel:
            await self._stream(channel)

    def _error(self, text: str) -> None:
        secrets = [self.url] + ([self._x_token] if self._x_token else [])
        for s in secrets[1:]:
            text = text.replace(s, "***")
        self.counters.error(f"{redact(self.url)}: {text}", *secrets[:1])

    def _failed(self, exc: BaseException) -> None:
        if self._close_reason:
            self._error(self._close_reason)
            return
        if isinstance(exc, (grpc.aio.AioRpcError, StreamEnded)):
            code, details = exc.code(), exc.details() or ""
            if code == grpc.StatusCode.OUT_OF_RANGE and "not available" in details:
                self.last_slot = None  # too old for its store: the next stream starts fresh
                self._error(f"from_slot refused ({details}); resubscribing without it")
                return
            if "from_slot is not supported" in details:
                self.from_slot_ok = False
                self.last_slot = None
                self._error("from_slot is not supported here; resubscribing without it")
                return
            self._error(f"stream ended: {code.name} {details}")  # (clipped once scrubbed)
            return
        self._error(f"{type(exc).__name__}: {exc}")

    async def stop(self) -> None:
        """End the stream (half-close, then cancel) and stop reconnecting."""
        self._stopping.set()
        call = self._call
        if call is not None:
            self._cut = True
            with contextlib.suppress(Exception):
                await call.done_writing()
            call.cancel()

    async def update(
        self,
        subscriptions: Sequence[Subscription],
        want: Mapping[tuple[str, str], Subscription] | None = None,
    ) -> None:
        """Make ``subscriptions`` the stream's set: a new request on the open stream
        (Yellowstone replaces the filter); a reconnect sends the set anyway. (``want``:
        the set keyed, as a pool hands it to every worker; a stream's filter is the
        whole set, so it is not needed.)"""
        self.subs = list(subscriptions)
        if self._outbox is not None and self._open:
            self._outbox.put(subscribe_request(self.subs, self.commitment, follow=self.follow))
            self.counters.subscriptions = len(self.subs)

    def account_labels(self) -> set[str]:
        """The accounts the open stream's filter names (none while it is down)."""
        if not self._open:
            return set()
        return {s.label for s in self.subs if s.method == "accountSubscribe"}

    # ------------------------------------------------------------ streaming
    async def _stream(self, channel: grpc.aio.Channel) -> None:
        c = self.config
        from_slot = self.last_slot if self.from_slot_ok else None
        outbox = _Requests()
        outbox.put(subscribe_request(self.subs, self.commitment, from_slot, self.follow))
        call = channel.stream_stream(
            SUBSCRIBE,
            request_serializer=pb.SubscribeRequest.SerializeToString,
            response_deserializer=None,
        )(outbox, metadata=self._metadata())
        keep_server_status(call)
        outbox.hold_until(call.initial_metadata)
        self._call, self._outbox = call, outbox
        self._opened(from_slot)
        watchdog = asyncio.create_task(self._watch(call.cancel))
        fn, ep, counters = self.ingest.grpc, self.endpoint, self.counters
        healthy_ns = int(c.healthy_after_s * 1e9)
        first_pulse = 0
        healthy = False
        self._pulse_ns = time.monotonic_ns()
        burst = 0
        try:
            while True:
                try:
                    raw: Any = await call.read()
                except asyncio.CancelledError:
                    if self._cut:  # our own cancel (stalled, stopping): not the task's
                        raise ConnectionError(self._close_reason or "stream cancelled") from None
                    raise
                if raw is _EOF:
                    raise ConnectionError("the server ended the stream")
                counters.messages += 1
                burst += 1
                if burst >= YIELD_EVERY:
                    burst = 0
                    await asyncio.sleep(0)
                now = time.monotonic_ns()
                counters.last_message_ns = now
                try:
                    kind, value = fn(ep, raw, now)
                except EngineError as exc:
                    count_refused(counters, exc, "update")
                    continue
                if kind == SLOT or kind == ACCOUNT or kind == TRANSACTION:
                    if kind == TRANSACTION and self.on_transaction is not None:
                        self.on_transaction(ep, bytes(raw))
                    if self.last_slot is None or value > self.last_slot:
                        self.last_slot = value
                    # any update is the pulse (a consumer working through a backlog on a
                    # busy machine reads a slot's accounts before its next slot)
                    self._pulse_ns = now
                    if kind == SLOT:
                        if not healthy:
                            if not first_pulse:
                                first_pulse = now
                            elif now - first_pulse >= healthy_ns:
                                healthy = True
                                self.attempt = 0
                elif kind == PING:
                    self.pings += 1
                    outbox.put(pb.SubscribeRequest(ping=pb.SubscribeRequestPing(id=self.pings)))
                elif kind == PONG:
                    self.pongs += 1
        finally:
            watchdog.cancel()
            call.cancel()

    def _opened(self, from_slot: int | None) -> None:
        """A stream was opened (asking ``from_slot``, or not): counted, its updates
        counted from now, the worker open with its subscriptions."""
        self.replays += from_slot is not None
        self.asked.append(from_slot)
        self._cut = False
        self.connects += 1
        self.counters.connected = True
        self.ingest.bind(self.endpoint, 0, "slot", "slot")  # its updates count from now
        self._open = True
        self.counters.subscriptions = len(self.subs)

    async def _watch(self, cancel: Callable[[], Any]) -> None:
        """End the stream when its updates stop (the server alive, nothing sent)."""
        c = self.config
        every = c.stale_after_s / 4
        while True:
            asked = time.monotonic_ns()
            await asyncio.sleep(every)
            if loop_was_held(asked, every):  # the peer cannot be judged on a held loop
                continue
            if time.monotonic_ns() - self._pulse_ns > c.stale_after_s * 1e9:
                await read_what_came()  # a late loop is not a silent server
                if time.monotonic_ns() - self._pulse_ns <= c.stale_after_s * 1e9:
                    continue
                self.counters.stale = 1
                self._close_reason = f"stalled, nothing for {c.stale_after_s:g} s; reconnecting"
                self._cut = True
                cancel()
                return
            self.counters.stale = 0


# ---------------------------------------------------------------- the native receiver
def native_stream(engine: Any, url: str) -> tuple[Any, str]:
    """The engine's native stream class (``GrpcStream``) for ``url``, or None and why it
    cannot serve it: the Python engine has none, and it speaks plaintext HTTP/2 only (a
    TLS endpoint is grpc.aio's)."""
    cls = getattr(engine, "GrpcStream", None)
    if cls is None:
        name = getattr(engine, "BACKEND", "this")
        return None, f"the {name} engine has no native gRPC client"
    if target(url)[1]:
        return None, "the native gRPC client speaks plaintext only (TLS endpoints: grpc.aio)"
    return cls, ""


def grpc_worker(engine: Any, url: str, config: WorkerConfig | None, **kw: Any) -> GrpcWorker:
    """The worker of one gRPC endpoint: native when ``config.grpc_client`` says so and it
    can serve ``url`` (see :func:`native_stream`), else grpc.aio with the reason on the
    endpoint's health line and in the log. ``kw``: :class:`GrpcWorker`'s arguments."""
    wanted = (config or WorkerConfig()).grpc_client
    if wanted == "native":
        cls, why = native_stream(engine, url)
        if cls is not None:
            return NativeGrpcWorker(url=url, config=config, stream_class=cls, **kw)
        w = GrpcWorker(url=url, config=config, **kw)
        w.fallback = why
        w.counters.error(f"{why}; this endpoint is read by grpc.aio")
        return w
    return GrpcWorker(url=url, config=config, **kw)


class _Wakes:
    """One wake pipe for every native stream of an event loop: each stream writes its own
    byte (``wake_byte``) when a batch waits or it ended, and one read of the pipe drains
    the streams whose bytes came, so one wake-up of the loop serves a batch of any stream
    (not a reader and a wake-up a stream). Made with the loop's first native stream,
    closed with its last (after the stream's ``join``: no thread writes to it then)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.rfd, False)
        os.set_blocking(self.wfd, False)
        self.drains: dict[int, Callable[[], None]] = {}
        loop.add_reader(self.rfd, self._woken)

    def add(self, drain: Callable[[], None]) -> int:
        """A byte of its own for a stream (``drain`` is called when it comes)."""
        byte = next((b for b in range(256) if b not in self.drains), None)
        if byte is None:
            raise RuntimeError("more than 256 native gRPC streams on one event loop")
        self.drains[byte] = drain
        return byte

    def remove(self, byte: int) -> None:
        """A stream is gone (joined); the pipe is closed with the loop's last."""
        self.drains.pop(byte, None)
        if not self.drains:
            _WAKES.pop(self.loop, None)
            self.loop.remove_reader(self.rfd)
            os.close(self.rfd)
            os.close(self.wfd)

    def _woken(self) -> None:
        got = b""
        with contextlib.suppress(BlockingIOError):
            while more := os.read(self.rfd, 4096):
                got += more
        for byte in dict.fromkeys(got):  # each stream once, in the order they woke it
            drain = self.drains.get(byte)
            if drain is not None:  # (a byte of a stream gone since: nothing to do)
                drain()


_WAKES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Wakes] = weakref.WeakKeyDictionary()


def _wakes(loop: asyncio.AbstractEventLoop) -> _Wakes:
    """The loop's wake pipe (made with its first native stream)."""
    w = _WAKES.get(loop)
    if w is None:
        w = _WAKES[loop] = _Wakes(loop)
    return w


class NativeGrpcWorker(GrpcWorker):
    """:class:`GrpcWorker` whose stream is received by the engine (``GrpcStream``: HTTP/2
    in a thread of its own, no Python per update): the updates it queued are applied a
    batch at a time through the ingest's ``frames`` (the recording tee journals each as
    the ``Kind.GRPC`` input it is, endpoint and receive ns as received), woken by a byte
    on a pipe the event loop reads. Pings are answered by the stream; the request, the
    reconnects, ``from_slot``, the watchdog and the counters are the aio worker's. Every
    native stream of the event loop shares one wake pipe (:class:`_Wakes`)."""

    client = "native"

    def __init__(self, *args: Any, stream_class: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._stream_class = stream_class
        self._native: Any = None
        self._endpoints = [-1] * self.endpoint + [self.endpoint]  # frames' id map

    async def _session(self) -> None:
        c = self.config
        from_slot = self.last_slot if self.from_slot_ok else None
        request = subscribe_request(self.subs, self.commitment, from_slot, self.follow)
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[tuple[int, str]] = loop.create_future()
        stream: Any = None
        base = (self.pings, self.pongs)
        healthy = [False]

        def woken() -> None:
            if stream is None or ended.done():  # (not yet, or no longer: as a reader removed)
                return
            self._drain(stream, base, healthy)
            end = stream.end()
            if end is not None and not ended.done():
                while self._drain(stream, base, healthy):  # what came before the end
                    pass
                ended.set_result(end)

        wakes = _wakes(loop)
        byte = wakes.add(woken)
        try:
            stream = self._stream_class(
                self.target,
                SUBSCRIBE,
                request.SerializeToString(),
                self.endpoint,
                x_token=self._x_token,
                max_message=c.max_frame_bytes,
                keep_transactions=self.on_transaction is not None,
                wake_fd=wakes.wfd,
                connect_timeout_s=c.open_timeout_s,
                wake_byte=byte,
            )
            self._native = stream
            self._opened(from_slot)
            self._pulse_ns = time.monotonic_ns()
            watchdog = asyncio.create_task(self._watch(stream.stop))
            try:
                code, details = await ended
            finally:
                watchdog.cancel()
                if not ended.done():
                    ended.cancel()  # (the task cancelled: nothing more is drained)
            if code == -2 or self._cut:
                raise ConnectionError(self._close_reason or "stream cancelled")
            if code == -1:
                raise ConnectionError(details)
            if code == 0:
                raise ConnectionError("the server ended the stream")
            raise StreamEnded(_STATUS.get(code, grpc.StatusCode.UNKNOWN), details)
        finally:
            self._native = None
            if stream is not None:
                stream.stop()
                stream.join()  # (the receive thread writes to the pipe until it ends)
            wakes.remove(byte)

    def _drain(self, stream: Any, base: tuple[int, int], healthy: list[bool]) -> int:
        """Apply the oldest batch the stream queued (one ``frames`` call: about a MiB at
        most; the stream wakes the loop again while more waits) and take its counts; the
        updates it held. The batch is the stream's own buffer (``take_batch``: no copy),
        back to the stream once the ingest and the recording are done with it."""
        batch, n, malformed, why, txs = stream.take_batch()
        counters = self.counters
        if n:
            counters.messages += n
            counters.last_message_ns = time.monotonic_ns()
            try:
                _pos, _run, refused = self.ingest.frames(batch, 0, self._endpoints, 0)
            except EngineError as exc:  # (a batch cut short: not from a working stream)
                count_refused(counters, exc, "batch")
                refused = malformed = 0
            if malformed:
                counters.malformed += malformed
                counters.error(f"malformed update: {why}")
            if refused > malformed:
                counters.rejected += refused - malformed
                counters.error(f"{refused - malformed} update(s) rejected: account or pool state")
            if self.on_transaction is not None:
                for tx in txs:
                    self.on_transaction(self.endpoint, tx)
        _open, _n, last_slot, pulse_ns, first_ns, last_ns, pings, pongs = stream.seen()
        if last_slot is not None and (self.last_slot is None or last_slot > self.last_slot):
            self.last_slot = last_slot
        if pulse_ns > self._pulse_ns:
            self._pulse_ns = pulse_ns
        if not healthy[0] and first_ns and last_ns - first_ns >= self.config.healthy_after_s * 1e9:
            healthy[0] = True
            self.attempt = 0
        self.pings, self.pongs = base[0] + pings, base[1] + pongs
        return int(n)

    async def stop(self) -> None:
        self._stopping.set()
        if self._native is not None:
            self._cut = True
            self._native.stop()

    async def update(
        self,
        subscriptions: Sequence[Subscription],
        want: Mapping[tuple[str, str], Subscription] | None = None,
    ) -> None:
        self.subs = list(subscriptions)
        if self._native is not None and self._open:
            self._native.send(
                subscribe_request(
                    self.subs, self.commitment, follow=self.follow
                ).SerializeToString()
            )
            self.counters.subscriptions = len(self.subs)

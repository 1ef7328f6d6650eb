"""The PubSub worker's WebSocket, over either of two libraries: ``picows`` (the default:
frames parsed in C, each message handed to the worker from the socket read that
brought it, without a copy or a task switch) or ``websockets`` (one awaited ``recv`` per
message), chosen by ``feeds.transport`` / ``--transport``. The worker's protocol
(subscriptions, ids, stall watchdog, backoff, caps) is written once against
:class:`Connection`; this module hides the libraries.

Both transports behave the same towards the worker:

- :func:`connect` opens within ``open_timeout_s`` (TCP, TLS with the clients' context,
  upgrade), else ``TimeoutError``; an upgrade refused with an HTTP status raises
  :class:`HandshakeRefused` (status and headers: a 429's ``Retry-After``); a TLS failure
  raises the ``ssl`` error (:func:`~.tls.tls_problem` words it);
- :meth:`Connection.stream` calls ``on_message`` with every message (text or binary, a
  fragmented one reassembled), in order, then sends what it left in ``outbox``; the
  message is ``bytes`` or a ``memoryview`` valid only during the call (picows' read
  buffer: copy what is kept). Once the connection is gone it raises :class:`Closed`,
  which says who closed it with what code, and whether it was a message over
  ``max_frame_bytes`` (refused with 1009) or an unanswered heartbeat (closed with 1011
  "keepalive ping timeout"); what ``on_message`` raises ends the connection and is
  raised instead;
- a ping every ``heartbeat_s``; no pong within ``heartbeat_s`` closes the connection
  (the same heartbeat over both libraries, ours: a pong that waited in the socket while
  the loop was late, or a wait the loop was held through, judges nothing —
  :func:`read_what_came`, :func:`loop_was_held` —, and a pong missing while the
  peer's messages still arrive (behind them: a reader behind a live peer) is waited
  for up to :data:`BEHIND_PINGS` heartbeats in a row; a late pong that comes counts);
- :meth:`Connection.send` on a closed connection raises :class:`Closed`.

The event loop gets a turn at least every ``read_slice_s`` of message handling
(:data:`READ_SLICE_S`), over both libraries. websockets' ``recv`` returns without
suspending while messages are buffered: the stream yields once the slice is spent.
picows hands over every message of a socket read before it returns, and a read after
the loop was held brings all that waited (thousands of messages at 3,000 pools: over
100 ms of handling in one step): the messages past the slice are copied, in order, into
a backlog handled a slice per loop step; past :data:`BACKLOG_BYTES` of it the socket
is not read until it drains (the endpoint's stream then waits in TCP, not in our
memory). A message is handed over in the order it came either way, and every one that
came before a close is handed over before :class:`Closed` is raised. The slices are
timed by :class:`~.slices.Pace`, as the large HTTP answers' parses are.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .slices import Pace
from .tls import ssl_for

if TYPE_CHECKING:  # imported where used: either library may be the one installed
    from picows import WSListener, WSTransport
    from websockets.asyncio.client import ClientConnection

TRANSPORTS = ("picows", "websockets")
CLOSE_TIMEOUT_S = 1.0  # our close: how long the endpoint's echo is waited for
KEEPALIVE_REASON = "keepalive ping timeout"  # websockets' own wording (RFC 6455 1011)
# handling messages for this long in one step of the loop, the stream gives the loop a
# turn (keys, redraws, the other endpoints' reads) before the next
READ_SLICE_S = 0.004
# picows: a backlog of messages past a slice this large stops the socket's reading until it
# is handed over (the endpoint's stream then waits in TCP, not in our memory); under it
# the socket is read on (pausing and resuming at each read cost two epoll syscalls, ~1 %
# of the dashboard's CPU at 3,000 pools)
BACKLOG_BYTES = 8 << 20
# heartbeats in a row whose pong is missing while the peer's messages still arrive (its
# pong behind them: a reader behind a live peer) before the connection is judged dead
BEHIND_PINGS = 3

Message = bytes | memoryview
Handler = Callable[[Message], None]

# RFC 6455 §7.4.1 (and the IANA registry) names of the codes a feed meets
_CODE_NAMES = {
    1000: "OK",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported type",
    1005: "no status received",
    1006: "connection closed abnormally",
    1007: "invalid data",
    1008: "policy violation",
    1009: "message too big",
    1010: "extension required",
    1011: "unexpected error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
}


@dataclass(frozen=True, slots=True)
class CloseInfo:
    """One close frame: its code and reason."""

    code: int
    reason: str

    def __str__(self) -> str:
        name = _CODE_NAMES.get(self.code) or (
            "registered"
            if 3000 <= self.code < 4000
            else "private use"
            if 4000 <= self.code < 5000
            else "unknown"
        )
        return f"{self.code} ({name}) {self.reason}".rstrip()


class Closed(Exception):
    """The connection is gone. ``sent`` / ``rcvd``: the close frames sent and received
    (None: none); ``rcvd_then_sent``: the endpoint closed first (None: not both);
    ``oversize``: we refused a message over the limit; ``keepalive``: no pong came."""

    def __init__(
        self,
        sent: CloseInfo | None,
        rcvd: CloseInfo | None,
        rcvd_then_sent: bool | None,
        *,
        oversize: bool = False,
        keepalive: bool = False,
    ) -> None:
        self.sent, self.rcvd, self.rcvd_then_sent = sent, rcvd, rcvd_then_sent
        self.oversize, self.keepalive = oversize, keepalive
        super().__init__(f"closed: sent {sent}, received {rcvd}")


class HandshakeRefused(Exception):
    """The WebSocket upgrade was answered with an HTTP status other than 101."""

    def __init__(self, status: int, headers: Mapping[str, str]) -> None:
        self.status = status
        self._headers = {k.lower(): v for k, v in headers.items()}
        super().__init__(f"server rejected WebSocket connection: HTTP {status}")

    def header(self, name: str) -> str | None:
        """The answer's header ``name`` (any case: HTTP header names are not
        case-sensitive), None when absent."""
        return self._headers.get(name.lower())


class Connection(Protocol):
    """An open PubSub connection (see the module docstring)."""

    async def stream(self, on_message: Handler, outbox: list[str]) -> None: ...
    async def send(self, text: str) -> None: ...
    async def close(self, code: int = 1000, reason: str = "") -> None: ...


@dataclass(frozen=True, slots=True)
class Options:
    """What every transport is opened with (seconds; bytes)."""

    open_timeout_s: float
    heartbeat_s: float
    max_frame_bytes: int
    ca_file: str | None = None
    read_slice_s: float = READ_SLICE_S


def default_transport() -> str:
    """picows when it can be imported, else websockets."""
    try:
        import picows  # noqa: F401
    except ImportError:  # pragma: no cover - picows ships wheels for the platforms we run on
        return "websockets"
    return "picows"


def connect(
    kind: str, url: str, opts: Options
) -> contextlib.AbstractAsyncContextManager[Connection]:
    """An open connection to ``url`` over transport ``kind`` (one of :data:`TRANSPORTS`),
    closed when the block ends."""
    if kind == "picows":
        return _picows(url, opts)
    if kind == "websockets":
        return _websockets(url, opts)
    raise ValueError(f"unknown transport {kind!r}: expected one of {', '.join(TRANSPORTS)}")


# ---------------------------------------------------------------- websockets
class _WsConnection:
    def __init__(self, ws: ClientConnection, slice_s: float) -> None:
        self.ws = ws
        self.messages = 0  # received so far (the heartbeat's evidence of a live peer)
        self.pace = Pace(slice_s)  # handling since the loop's last turn

    async def stream(self, on_message: Handler, outbox: list[str]) -> None:
        recv, send, pace = self.ws.recv, self.ws.send, self.pace
        pace.restart()
        try:
            while True:
                raw = await recv(decode=False)
                self.messages += 1
                if pace.due():
                    # recv() returns without suspending while messages are buffered:
                    # give the loop (keys, redraws, the other endpoints) a turn
                    await asyncio.sleep(0)
                    pace.restart()
                on_message(raw)
                while outbox:
                    await send(outbox.pop(0))
        except Exception as exc:
            raise _ws_closed(exc) from exc

    async def send(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except Exception as exc:
            raise _ws_closed(exc) from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)


def _ws_closed(exc: Exception) -> Exception:
    """websockets' ``ConnectionClosed`` as :class:`Closed` (anything else unchanged)."""
    from websockets.exceptions import ConnectionClosed, PayloadTooBig
    from websockets.frames import CloseCode

    if not isinstance(exc, ConnectionClosed):
        return exc
    sent = CloseInfo(int(exc.sent.code), exc.sent.reason) if exc.sent else None
    rcvd = CloseInfo(int(exc.rcvd.code), exc.rcvd.reason) if exc.rcvd else None
    oversize = (sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG) or isinstance(
        exc.__cause__, PayloadTooBig
    )
    keepalive = (
        sent is not None and sent.code == CloseCode.INTERNAL_ERROR and "keepalive" in sent.reason
    )
    return Closed(sent, rcvd, exc.rcvd_then_sent, oversize=oversize, keepalive=keepalive)


@contextlib.asynccontextmanager
async def _websockets(url: str, opts: Options) -> AsyncIterator[Connection]:
    import websockets
    from websockets.exceptions import InvalidStatus

    try:
        ws = await websockets.connect(
            url,
            open_timeout=opts.open_timeout_s,
            # the heartbeat is ours (:func:`_ws_beat`): websockets' own keepalive judges a
            # pong late when the loop, not the peer, was held
            ping_interval=None,
            close_timeout=CLOSE_TIMEOUT_S,
            max_size=opts.max_frame_bytes,
            compression=None,
            max_queue=None,
            ssl=ssl_for(url, opts.ca_file),
        )
    except InvalidStatus as exc:
        raise HandshakeRefused(exc.response.status_code, exc.response.headers) from exc
    conn = _WsConnection(ws, opts.read_slice_s)
    beat = asyncio.get_running_loop().create_task(_ws_beat(ws, opts.heartbeat_s, conn))
    try:
        yield conn
    finally:
        beat.cancel()
        await ws.close()


async def _ws_beat(ws: ClientConnection, every: float, conn: _WsConnection) -> None:
    """A ping every ``every`` s; no pong within ``every`` s: close with 1011 (the close a
    reader sees as ``keepalive``), unless the pong came while the loop was late or the
    loop was held through the wait (then the next ping judges), or messages still came
    (up to :data:`BEHIND_PINGS` heartbeats in a row)."""
    from websockets.exceptions import ConnectionClosed

    behind, waiter = 0, None
    while True:
        await asyncio.sleep(every)
        if waiter is not None and waiter.done():  # the last ping's pong came, late
            behind = 0
        try:
            waiter = asyncio.ensure_future(await ws.ping())
        except ConnectionClosed:
            return
        # a pong never waited for (the connection closed first) is not an error to log
        waiter.add_done_callback(lambda f: f.cancelled() or f.exception())
        asked, seen = time.monotonic_ns(), conn.messages
        try:
            async with asyncio.timeout(every):
                await asyncio.shield(waiter)
            behind = 0
        except TimeoutError:
            await read_what_came()
            if waiter.done() or loop_was_held(asked, every):
                continue
            if conn.messages != seen and behind < BEHIND_PINGS:
                behind += 1
                continue
            await ws.close(1011, KEEPALIVE_REASON)
            return
        except ConnectionClosed:
            return


# ---------------------------------------------------------------- picows
class _PicowsConnection:
    """picows parses every frame of a socket read in C and calls the listener's
    ``on_ws_frame`` with each, which hands the message to the worker's ``on_message``
    right there (a memoryview into picows' read buffer: no copy) until the read has
    been handled for ``read_slice_s``; the rest of the read is kept (copies) in
    :attr:`backlog`, handled a slice per loop step by :meth:`drain` (the socket's
    reading paused while it holds more than :data:`BACKLOG_BYTES`)."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.transport: WSTransport | None = None
        self.on_message: Handler | None = None  # None: not streaming yet
        self.outbox: list[str] = []
        self.early: list[bytes] = []  # messages before stream() (copies)
        self.failed: BaseException | None = None  # what on_message raised
        self.closed: Closed | None = None
        self.pong = asyncio.Event()
        self.messages = 0  # frames of messages received (the heartbeat's evidence)
        self.oversize = False
        self.keepalive = False
        self.heartbeat: asyncio.Task[None] | None = None
        self.gone = asyncio.Event()  # the socket is closed
        self.fragments: list[bytes] = []  # a fragmented message so far
        self.fragments_size = 0
        # this socket read's handling so far (restarted at its first frame), or a drain's
        self.pace = Pace(opts.read_slice_s)
        self.in_read = False  # a read's frames are being handed over (its last not yet)
        self.backlog: deque[bytes] = deque()  # messages past a slice, to hand over in order
        self.backlog_bytes = 0
        self.paused = False  # the socket not read: the backlog went past BACKLOG_BYTES
        self.drained = asyncio.Event()  # the backlog is empty
        self.drained.set()

    # the listener's side (called by picows, on the loop)
    def closing(self) -> Closed:
        """What the close handshake says so far, as :class:`Closed`."""
        t = self.transport
        assert t is not None
        hs = t.close_handshake
        sent = rcvd = None
        order: bool | None = None
        if hs is not None:
            sent = _close_info(hs.sent.code, hs.sent.reason) if hs.sent else None
            rcvd = _close_info(hs.recv.code, hs.recv.reason) if hs.recv else None
            order = hs.recv_then_sent if (sent and rcvd) else None
        oversize = self.oversize or (sent is not None and sent.code == 1009)
        return Closed(sent, rcvd, order, oversize=oversize, keepalive=self.keepalive)

    def disconnected(self) -> None:
        self.closed = self.closing()
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        self.gone.set()

    def refuse(self, code: int, reason: str) -> None:
        """Close with ``code`` and drop the socket (a limit broken: nothing more is read)."""
        from picows import WSCloseCode

        t = self.transport
        assert t is not None
        if not _gone(t):
            t.send_close(WSCloseCode(code), reason.encode())
        t.disconnect(graceful=False)

    def fail(self, exc: BaseException) -> None:
        """``on_message`` raised: the connection ends, and stream() raises ``exc``."""
        if self.failed is None:
            self.failed = exc
        self.on_message = _dropped
        self.refuse(1011, "internal error")

    def spent(self, last_in_buffer: bool) -> bool:
        """Whether this socket read has been handled for its slice (called once per
        frame; ``last_in_buffer``: the read's last frame, after which a new read starts)."""
        if not self.in_read:
            self.in_read = True
            self.pace.restart()
        if last_in_buffer:
            self.in_read = False
        return self.pace.due()

    def defer(self, payload: Message) -> None:
        """Keep ``payload`` (a copy) behind the backlog; the first one asks the loop for
        :meth:`drain`; past :data:`BACKLOG_BYTES` the socket is not read until it drains."""
        raw = bytes(payload)
        self.backlog.append(raw)
        self.backlog_bytes += len(raw)
        if self.drained.is_set():
            self.drained.clear()
            asyncio.get_running_loop().call_soon(self.drain)
        if self.backlog_bytes > BACKLOG_BYTES and not self.paused:
            t = self.transport
            assert t is not None
            self.paused = True
            t.underlying_transport.pause_reading()

    def drain(self) -> None:
        """Hand over the backlog for a slice (one message at least), then give the loop a
        turn: again while some is left, else resume reading."""
        backlog, handle, pace = self.backlog, self.on_message, self.pace
        pace.restart()
        while backlog and handle is not None:
            raw = backlog.popleft()
            self.backlog_bytes -= len(raw)
            try:
                handle(raw)
                if self.outbox:
                    self.flush()
            except Exception as exc:  # the worker's bug: it ends the connection
                self.fail(exc)
                break
            if pace.due():
                break
        if backlog and self.on_message is not _dropped and self.on_message is not None:
            asyncio.get_running_loop().call_soon(self.drain)
            return
        backlog.clear()  # (the stream stopped or failed: nothing more is handed over)
        self.backlog_bytes = 0
        self.drained.set()
        t = self.transport
        if self.paused and t is not None and not t.is_disconnected:
            self.paused = False
            t.underlying_transport.resume_reading()

    def flush(self) -> None:
        """Send what ``on_message`` left in the outbox (picows sends without waiting)."""
        from picows import WSMsgType

        t = self.transport
        assert t is not None
        out = self.outbox
        if _gone(t):  # nothing more reaches the endpoint: a reconnect asks again
            out.clear()
            return
        while out:
            t.send(WSMsgType.TEXT, out.pop(0).encode())

    # the worker's side
    async def stream(self, on_message: Handler, outbox: list[str]) -> None:
        self.outbox = outbox
        try:
            early, self.early = self.early, []
            for raw in early:
                on_message(raw)
                self.flush()
            if self.closed is None:
                self.on_message = on_message
                await self.gone.wait()  # the watchdog bounds it: a stall closes the socket
            await self.drained.wait()  # what came before the close is handed over first
        finally:
            self.on_message = _dropped  # nothing reaches a worker that stopped streaming
        if self.failed is not None:
            raise self.failed
        assert self.closed is not None
        raise self.closed

    async def send(self, text: str) -> None:
        from picows import WSMsgType

        t = self.transport
        assert t is not None
        if self.closed is not None:
            raise self.closed
        if _gone(t):
            raise self.closing()
        t.send(WSMsgType.TEXT, text.encode())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        from picows import WSCloseCode

        t = self.transport
        assert t is not None
        if t.is_disconnected:
            return
        if not t.is_close_frame_sent:
            t.send_close(WSCloseCode(code), reason.encode())
        # the endpoint echoes the close (the listener then drops the socket) or is given
        # CLOSE_TIMEOUT_S to, as websockets' close_timeout
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self.gone.wait()
        if not t.is_disconnected:
            t.disconnect(graceful=False)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await self.gone.wait()

    async def beat(self) -> None:
        """A ping every ``heartbeat_s``; no pong within ``heartbeat_s``: close with 1011
        and drop the socket (a dead TCP path would not carry a close handshake); a pong
        behind messages still arriving is waited for (:data:`BEHIND_PINGS`)."""
        t = self.transport
        assert t is not None
        every = self.opts.heartbeat_s
        behind = 0
        while True:
            await asyncio.sleep(every)
            if self.pong.is_set():  # the last ping's pong came (late or not)
                behind = 0
            self.pong.clear()
            if _gone(t):  # (its end is on its way: on_ws_disconnected cancels this task)
                return
            t.send_ping(b"arbscope")
            asked, seen = time.monotonic_ns(), self.messages
            try:
                async with asyncio.timeout(every):
                    await self.pong.wait()
            except TimeoutError:
                await read_what_came()
                # it came while our own loop was late, or the loop was held through the
                # wait: not the peer (the next ping judges)
                if self.pong.is_set() or loop_was_held(asked, every):
                    continue
                # behind messages still arriving (a reader behind a live peer): waited
                # for a few heartbeats more
                if self.messages != seen and behind < BEHIND_PINGS:
                    behind += 1
                    continue
                self.keepalive = True
                self.refuse(1011, KEEPALIVE_REASON)
                return


def _gone(t: WSTransport) -> bool:
    """Nothing written to ``t`` reaches the endpoint any more: it is disconnected, our
    close frame went, or its socket is closing (the peer hung up or the socket failed:
    picows hears of it a turn of the loop later, and a write meanwhile is dropped with a
    warning of the socket's, one per write past the fifth)."""
    return t.is_disconnected or t.is_close_frame_sent or t.underlying_transport.is_closing()


async def read_what_came() -> None:
    """Let the loop read what already reached the sockets before a peer is judged silent.

    On a busy machine the loop can be held for longer than a heartbeat or a stall limit;
    when it runs again, a timer that has expired may run before the loop has read the
    pong or the messages waiting in the socket (they are read in the loop's next turns).
    A watchdog that fired calls this, then looks again: only a peer that stayed silent
    is dropped."""
    for _ in range(3):
        await asyncio.sleep(0)


def loop_was_held(asked_ns: int, slept_s: float) -> bool:
    """Whether a watchdog's ``asyncio.sleep(slept_s)`` from ``asked_ns`` came back late by
    more than its own length: the loop was held (a busy machine, a long step) and the
    readers had no turn either, so a silence measured across it says nothing about the
    peer. The watchdog looks again after its next sleep, by which time the readers have
    had theirs."""
    return time.monotonic_ns() - asked_ns > 2 * slept_s * 1e9


def _close_info(code: object, reason: str) -> CloseInfo:
    """picows' close code (an enum; 0 when the frame had none) as :class:`CloseInfo`
    (1005, "no status received", for none: RFC 6455 §7.1.5)."""
    value = int(getattr(code, "value", code))  # type: ignore[call-overload]
    return CloseInfo(value or 1005, reason)


def _dropped(raw: Message) -> None:
    """The handler once a worker no longer streams: messages are dropped."""


def _listener(conn: _PicowsConnection) -> WSListener:
    """The picows listener feeding ``conn`` (a class made here: picows is imported only
    when it is used)."""
    from picows import WSCloseCode, WSFrame, WSListener, WSMsgType

    TEXT, BINARY, CONT = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION
    CLOSE, PONG = WSMsgType.CLOSE, WSMsgType.PONG
    limit = conn.opts.max_frame_bytes

    class Listener(WSListener):
        def on_ws_connected(self, transport: WSTransport) -> None:
            conn.transport = transport

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            spent = conn.spent(frame.last_in_buffer)
            kind = frame.msg_type
            if transport.is_close_frame_sent and kind != CLOSE:
                # closing (ours, or picows' refusal of a frame over the limit, whose
                # payload it would otherwise still hand over): nothing more is read
                return
            payload: Message
            if kind == TEXT or kind == BINARY or kind == CONT:
                conn.messages += 1
            if (kind == TEXT or kind == BINARY) and frame.fin and not conn.fragments:
                payload = frame.get_payload_as_memoryview()
            elif kind == TEXT or kind == BINARY or kind == CONT:
                whole = self._fragment(frame, kind)
                if whole is None:
                    return
                payload = whole
            elif kind == PONG:
                conn.pong.set()
                return
            elif kind == CLOSE:
                if not transport.is_close_frame_sent:  # the endpoint's: echoed (RFC 6455 §5.5.1)
                    if frame.payload_size >= 2:
                        transport.send_close(frame.get_close_code(), frame.get_close_message())
                    else:  # no code in it: answered with a plain normal closure
                        transport.send_close(WSCloseCode.OK)
                transport.disconnect()
                return
            else:  # a ping: picows answers it itself
                return
            handle = conn.on_message
            if handle is None:  # before stream(): kept (a copy) until it starts
                conn.early.append(bytes(payload))
                return
            if spent or conn.backlog:
                conn.defer(payload)  # this read's slice is spent: the loop's turn first
                return
            try:
                handle(payload)
                if conn.outbox:
                    conn.flush()
            except Exception as exc:  # the worker's bug: never picows' to log and swallow
                conn.fail(exc)

        def _fragment(self, frame: WSFrame, kind: WSMsgType) -> bytes | None:
            """RFC 6455 §5.4: a message in several frames, reassembled under the same
            limit as a whole one (picows checks each frame alone)."""
            if (kind == CONT) != bool(conn.fragments):
                self._protocol_error(
                    "unexpected continuation frame"
                    if kind == CONT
                    else "new message inside a fragmented one"
                )
                return None
            conn.fragments_size += frame.payload_size
            if conn.fragments_size > limit:
                conn.oversize = True
                conn.fragments.clear()
                conn.refuse(1009, f"over size limit ({conn.fragments_size} > {limit} bytes)")
                return None
            conn.fragments.append(frame.get_payload_as_bytes())
            if not frame.fin:
                return None
            payload = b"".join(conn.fragments)
            conn.fragments.clear()
            conn.fragments_size = 0
            return payload

        def _protocol_error(self, reason: str) -> None:
            conn.refuse(int(WSCloseCode.PROTOCOL_ERROR.value), reason)

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            conn.disconnected()

    return Listener()


@contextlib.asynccontextmanager
async def _picows(url: str, opts: Options) -> AsyncIterator[Connection]:
    import picows

    conn = _PicowsConnection(opts)
    try:
        # TCP and TLS under the same deadline as the upgrade; picows' own handshake
        # timeout drops a socket this deadline abandons mid-upgrade. asyncio.timeout, not
        # wait_for: on 3.11 wait_for loses a cancellation that arrives as the connection
        # completes (gh-86296), and a worker stopped while connecting would stream on
        async with asyncio.timeout(opts.open_timeout_s):
            await picows.ws_connect(
                lambda: _listener(conn),
                url,
                ssl_context=ssl_for(url, opts.ca_file),
                websocket_handshake_timeout=opts.open_timeout_s,
                max_frame_size=opts.max_frame_bytes,
                enable_auto_ping=False,
                enable_auto_pong=True,
                logger_name="pubsub",
            )
    except picows.WSHandshakeError as exc:
        if exc.response is None:
            raise
        raise HandshakeRefused(int(exc.response.status), exc.response.headers) from exc
    assert conn.transport is not None
    loop = asyncio.get_running_loop()
    # picows keeps the error it disconnected on (its own refusal of a frame over the
    # limit) in a future of its own, which only wait_disconnected() reads: unread, asyncio
    # logs "Future exception was never retrieved" with picows' traceback when the future
    # is collected — one per oversize frame. It is read here and dropped: the close
    # handshake (1009 sent) already says it, and the worker counts and words it once.
    reaper = loop.create_task(conn.transport.wait_disconnected())
    reaper.add_done_callback(_read_out)
    conn.heartbeat = loop.create_task(conn.beat())
    try:
        yield conn
    finally:
        conn.heartbeat.cancel()
        await conn.close()
        if not reaper.done():  # gone is set with picows' future; else it reads it itself
            reaper.cancel()  # (asyncio.shield reads an inner future's error on its own)


def _read_out(task: asyncio.Task[None]) -> None:
    """Read what a finished task raised (so asyncio does not log it as never retrieved)."""
    if not task.cancelled():
        task.exception()

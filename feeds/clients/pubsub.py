"""One PubSub connection per endpoint (spec §5.1): subscribe, feed every frame to the
ingest, watch for silence, reconnect with backoff and jitter, resubscribe.

The worker never parses a notification itself: each raw frame goes to ``ingest.frame``
(one call into the engine: parse, dedup, decode, graph update), which returns the
subscription id, or -1 for a response, which the worker's id book then reads. The worker
has no recording tap of its own: a session that records hands it a recording ingest
(``arbscope.session``), so every frame is journaled at one point, in the order the
engine sees it.

Liveness, three ways:
- heartbeat: WebSocket pings every ``heartbeat_s``; no pong within ``heartbeat_s`` closes
  the connection (a dead TCP path);
- the slot subscription is the feed's pulse: no slot for ``stale_after_s`` means the
  endpoint stalled (socket open, nothing sent), and the worker reconnects;
- per subscription: an account or logs subscription silent for ``quiet_after_s`` counts
  as stale in the health record (a quiet pool is legal, so this only reports).

Backoff: full jitter, uniform in [0, min(backoff_max_s, backoff_min_s * 2^attempt)];
``attempt`` starts over only once a connection has delivered its pulse for
``healthy_after_s`` — never on a handshake alone, so an endpoint that accepts and then
fails every connection the same way (a frame over ``max_frame_bytes``, say) is retried
ever more slowly, not in a tight loop. An upgrade refused with HTTP 429 closes the
endpoint's :class:`~.ratelimit.RateGate` (shared with its HTTP requests): no reconnect
before its ``Retry-After`` (or backoff) has passed.

Subscribing: at most ``subscribe_window`` subscribe requests are unanswered on a connection
at a time; the rest wait in the worker and go as answers come. A node takes a
connection's requests one at a time, in order, and reads a ping only after the requests
sent before it (Agave's ``rpc_pubsub_service.rs``: receive, handle, answer, then the next
frame): a market's ~17,700 subscriptions sent at once put every ping behind them, and on
a busy node the heartbeat then closed a healthy connection, which subscribed everything
again and closed again. With the window a ping waits behind at most that many requests.

Subscription caps: a subscribe the endpoint refuses (its subscription cap, or any error
answer) leaves that subscription uncovered there (``counters.refused``); the refused
ones are asked again while connected, first after ``resubscribe_s``, then ever more
slowly (doubling up to ``resubscribe_max_s``), never in a tight loop. An endpoint that
*closes* the connection with 1008 (policy violation) while subscribes are unanswered has
a cap of as many subscriptions as it had accepted: the worker remembers that cap and, on
every later connection, asks for that many only (the slot pulse first, then accounts in
the order the session watches them, then logs); the rest count as refused.

Every failure lands in the endpoint's :class:`~feeds.health.HealthCounters` (counts
and a last error with the URL redacted); none escapes the worker.

The socket is :mod:`.transport`'s (``WorkerConfig.transport``: ``picows`` by default,
``websockets`` as the fallback): it hands the worker each message as it arrives, and
the same heartbeat, limits and close semantics hold over either.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine_rs.errors import DecodeError, EngineError, FrameError

from ..health import HealthCounters, size_text
from ..redact import redact
from ..wire.protocol import (
    ACCOUNT,
    Book,
    ErrorResponse,
    ProtocolError,
    Response,
    Subscription,
    parse_frame,
    request,
)
from .ingest import IngestCalls
from .ratelimit import RateGate, retry_after_seconds
from .tls import DEFAULT_MAX_FRAME_BYTES, FRAME_HINT, tls_problem
from .transport import (
    READ_SLICE_S,
    TRANSPORTS,
    Closed,
    Connection,
    HandshakeRefused,
    Message,
    Options,
    connect,
    default_transport,
    loop_was_held,
    read_what_came,
)

# a burst of subscriptions (a connection's first, a market's thousands of accounts) gives
# the loop back after this many: the other connections' frames and pongs, the screen's keys
BURST_SLICE = 256
# subscribe requests unanswered on one connection at most (WorkerConfig.subscribe_window):
# a ping is read by the node behind at most these (see the module docstring); at a node's
# ~1-10 µs a subscribe that is well under a heartbeat, and over a 50 ms round trip still
# ~10,000 subscriptions a second
SUBSCRIBE_WINDOW = 512
POLICY_VIOLATION = 1008  # RFC 6455 §7.4.1: how a provider closes over its subscription cap


GRPC_CLIENTS = ("native", "aio")


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Timeouts and backoff of a PubSub worker (seconds; ``max_frame_bytes`` in bytes:
    a bigger frame closes the connection with 1009 and counts as a failure;
    ``ca_file``: a private CA trusted besides the system's for ``wss://``;
    ``transport``: the WebSocket library, ``picows`` or ``websockets``; ``grpc_client``:
    a gRPC stream's receiver, ``native`` (the engine's, in its own thread) or ``aio``
    (grpc.aio: TLS endpoints, the Python engine, and the oracle))."""

    open_timeout_s: float = 5.0
    heartbeat_s: float = 5.0
    stale_after_s: float = 3.0  # no slot notification for this long: reconnect
    quiet_after_s: float = 120.0  # an account/logs subscription silent this long: stale
    backoff_min_s: float = 0.25
    backoff_max_s: float = 10.0
    healthy_after_s: float = 10.0  # slots delivered this long: the backoff starts over
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    unsubscribe_wait_s: float = 0.5
    ca_file: str | None = None
    resubscribe_s: float = 5.0  # refused subscriptions asked again after this long,
    resubscribe_max_s: float = 300.0  # doubling each time up to this
    transport: str = field(default_factory=default_transport)
    grpc_client: str = "native"
    subscribe_window: int = SUBSCRIBE_WINDOW  # subscribe requests unanswered at most
    read_slice_s: float = READ_SLICE_S  # messages handled in one loop step at most this long

    def __post_init__(self) -> None:
        if self.subscribe_window < 1:
            raise ValueError(f"subscribe_window {self.subscribe_window}: expected >= 1")
        if self.transport not in TRANSPORTS:
            raise ValueError(
                f"transport {self.transport!r}: expected one of {', '.join(TRANSPORTS)}"
            )
        if self.grpc_client not in GRPC_CLIENTS:
            raise ValueError(
                f"grpc_client {self.grpc_client!r}: expected one of {', '.join(GRPC_CLIENTS)}"
            )


_KIND = {"accountSubscribe": "account", "logsSubscribe": "logs", "slotSubscribe": "slot"}


def count_refused(counters: HealthCounters, exc: EngineError, what: str) -> None:
    """What the ingest refused of an endpoint's ``what`` (a frame, an update), counted and
    said on its health line: malformed, or an account or pool state rejected."""
    if isinstance(exc, FrameError):
        counters.malformed += 1
        counters.error(f"malformed {what}: {exc}")
    elif isinstance(exc, DecodeError):
        counters.rejected += 1
        counters.error(f"account rejected: {exc}")
    else:
        counters.rejected += 1
        counters.error(f"pool state rejected: {exc}")


# account_labels as last computed: (the set's version and sizes, refused, the labels)
_Labels = tuple[tuple[int, int, int], set[tuple[str, str]], frozenset[str]]


class PubSubWorker:
    """The connection to one endpoint (see the module docstring)."""

    def __init__(
        self,
        endpoint: int,
        url: str,
        subscriptions: Sequence[Subscription],
        ingest: IngestCalls,
        counters: HealthCounters,
        config: WorkerConfig | None = None,
        seed: int = 0,
        gate: RateGate | None = None,
    ) -> None:
        self.endpoint, self.url = endpoint, url
        # the endpoint's rate-limit backoff (shared with its HTTP client when the pool
        # gives one): a 429 to the WebSocket upgrade closes it, and no reconnect is tried
        # before it opens
        self.gate = gate if gate is not None else RateGate()
        self.subs = list(subscriptions)
        # ``subs`` keyed by (method, label) as the last update gave it (None: not made)
        self._want: Mapping[tuple[str, str], Subscription] | None = None
        self.ingest, self.counters = ingest, counters
        self.config = config or WorkerConfig()
        self.rng = random.Random(seed * 7919 + endpoint)
        self.book = Book()
        # subscriptions this connection is to ask for and has not yet sent (the window is
        # full), in the order they go; keyed by (method, label)
        self._asking: OrderedDict[tuple[str, str], Subscription] = OrderedDict()
        self._room = asyncio.Event()  # an answer came, or more to ask: the asker looks
        # moves whenever the set asked for on this connection may change other than by a
        # request sent or answered (an update, a retry of refusals, a reconnect)
        self._changes = 0
        # account_labels as last computed: (the set's version and sizes, refused, labels)
        self._labels: _Labels | None = None
        self.last_seen: dict[int, int] = {}  # server subscription id -> recv ns
        self._ws: Connection | None = None
        self._stopping = asyncio.Event()
        self.connects = 0
        self.attempt = 0  # failures since the last healthy connection: the backoff exponent
        # the backoff caps chosen (seconds), newest last: what the waits were drawn from
        self.backoffs: deque[float] = deque(maxlen=64)
        self._pulse_ids: set[int] = set()  # server ids of this connection's slot subscriptions
        # (method, label) of the subscriptions whose latest answer was a refusal (kept
        # across reconnects until the endpoint accepts them): counters.refused
        self._refused: set[tuple[str, str]] = set()
        self._close_reason = ""
        self._cancelled: set[int] = set()  # subscribe requests dropped before their answer
        self._unsubscribing: set[int] = set()  # stop()'s unsubscribe requests, unanswered
        self._unsubscribed = asyncio.Event()  # ... all answered
        self._outbox: list[str] = []  # frames _control wants sent
        # subscriptions per connection the endpoint allows, learned when it closed the
        # connection with 1008 over one (None: no cap seen)
        self.cap: int | None = None
        self.resubscribes = 0  # refused subscriptions asked again
        self._resub_wait = self.config.resubscribe_s
        self._resub_at = 0  # monotonic ns of the next retry of refused subscriptions

    # ------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Connect, stream, reconnect until :meth:`stop`."""
        c = self.config
        while not self._stopping.is_set():
            if self.gate.remaining() > 0:  # backing off from a rate limit: not before it ends
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.gate.remaining())
                continue
            try:
                opts = Options(
                    c.open_timeout_s, c.heartbeat_s, c.max_frame_bytes, c.ca_file, c.read_slice_s
                )
                async with connect(c.transport, self.url, opts) as ws:
                    if self._stopping.is_set():  # stopped while connecting: never stream
                        break
                    self._ws = ws
                    self.connects += 1
                    self.counters.connected = True
                    # a handshake alone is not health (an endpoint may accept, then fail
                    # every connection the same way): ``attempt`` starts over in _stream
                    # once the connection has delivered its pulse for healthy_after_s
                    await self._stream(ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure is reported, none escapes
                if self._stopping.is_set():  # our own stop() closed it: not a failure
                    pass
                elif self._close_reason:  # we closed it (the watchdog): say why
                    self.counters.error(f"{redact(self.url)}: {self._close_reason}", self.url)
                else:
                    self._failed(exc)
            finally:
                self._close_reason = ""
                self._ws = None
                self.counters.connected = False
                self.counters.subscriptions = 0
                self.ingest.unbind(self.endpoint)
                self.book.reset()
                self._asking.clear()
                self._changes += 1
                self._cancelled.clear()
                self._outbox.clear()
                self.last_seen.clear()
            if self._stopping.is_set():
                break
            self.counters.reconnects += 1
            # full jitter: uniform in [0, min(max, min * 2^attempt)]
            cap = min(c.backoff_max_s, c.backoff_min_s * 2 ** min(self.attempt, 32))
            self.attempt += 1
            self.backoffs.append(cap)
            wait = max(self.rng.uniform(0.0, cap), self.gate.remaining())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait)

    def _failed(self, exc: BaseException) -> None:
        tls = tls_problem(exc, self.url, self.config.ca_file)
        if tls is not None:  # one line, the endpoint named: never the handshake's traceback
            self.counters.error(tls, self.url)
            return
        if isinstance(exc, Closed):
            text = self._closed(exc)
            rcvd = exc.rcvd
            asking = any(s.method.endswith("Subscribe") for s in self.book.pending.values())
            if rcvd is not None and rcvd.code == POLICY_VIOLATION and asking:
                accepted = len(self.book.active)
                if accepted and (self.cap is None or accepted < self.cap):
                    self.cap = accepted
                    text += (
                        f"; closed over a cap of {accepted} subscriptions per connection: "
                        f"asking for {accepted} only from now on"
                    )
        elif isinstance(exc, HandshakeRefused) and exc.status == 429:
            after = retry_after_seconds(exc.header("Retry-After"))
            wait = self.gate.refused(after)
            text = (
                "connection refused: HTTP 429 rate limited"
                + (f", Retry-After {after:g} s" if after is not None else "")
                + f"; reconnecting in {wait:.1f} s"
            )
        elif isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            text = f"no answer within {self.config.open_timeout_s:g} s"
        else:
            text = f"{type(exc).__name__}: {exc}"
        self.counters.error(f"{redact(self.url)}: {text}", self.url)

    def _closed(self, exc: Closed) -> str:
        """Why the connection closed, in words: who closed it and with what code."""
        c, sent, rcvd = self.config, exc.sent, exc.rcvd
        if exc.oversize:
            self.counters.oversize += 1
            return (
                f"frame of more than {size_text(c.max_frame_bytes)} refused; {FRAME_HINT}; "
                "reconnecting"
            )
        if exc.keepalive:
            return f"no pong within {c.heartbeat_s:g} s; reconnecting"
        if sent is not None and (rcvd is None or exc.rcvd_then_sent is False):  # we closed it
            return f"closed by us ({str(sent)[:120]}); reconnecting"
        if rcvd is not None:
            return f"closed by the endpoint ({str(rcvd)[:120]}); reconnecting"
        return "connection closed abruptly (no close frame); reconnecting"

    async def stop(self) -> None:
        """Unsubscribe everything and close, once the endpoint has answered the
        unsubscribes (or after ``unsubscribe_wait_s``). From the first call on, nothing
        else is sent on the connection — :meth:`update` only records the set, refused
        subscriptions are not asked again —, so each subscription is unsubscribed once,
        here: an update that dropped subscriptions while the stop waited used to
        unsubscribe them a second time, which the endpoint refused ("-32602 Invalid
        subscription id", a warning per endpoint at shutdown)."""
        self._stopping.set()
        self._room.set()  # the asker sees the stop and sends nothing more
        ws = self._ws
        if ws is None:
            return
        first = self.book.next_id
        frames = self.book.unsubscribe_all()
        self.book.clear_active()  # unsubscribed: no longer this connection's to drop
        self._unsubscribing = set(range(first, self.book.next_id))
        self._unsubscribed.clear()
        with contextlib.suppress(Exception):
            for frame in frames:
                await ws.send(frame)
            if self._unsubscribing:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.config.unsubscribe_wait_s):
                        await self._unsubscribed.wait()
            await ws.close()

    async def update(
        self,
        subscriptions: Sequence[Subscription],
        want: Mapping[tuple[str, str], Subscription] | None = None,
    ) -> None:
        """Make ``subscriptions`` the connection's set: subscribe what is new, unsubscribe
        what is gone (now when connected; a reconnect subscribes the set anyway).
        ``want``: the same set keyed by (method, label), when the caller has it (a pool
        hands one map to all its workers). Only the difference from the last set is
        walked: at 3,000 pools the set is ~21,000 subscriptions and a round of the pool's
        follow moves a few tick arrays."""
        if want is None:
            want = {(s.method, s.label): s for s in subscriptions}
        before = self._want
        if before is None:
            before = {(s.method, s.label): s for s in self.subs}
        self._want = want
        self.subs = list(subscriptions)
        refused = self._refused
        if refused:  # a refusal of what is no longer wanted is no problem
            refused.intersection_update(want.keys())
        self.counters.refused = len(refused)
        ws = self._ws
        if ws is None or self._stopping.is_set():  # stopping: nothing more is sent on it
            return
        gone = before.keys() - want.keys()
        frames = []
        if gone:
            book = self.book
            for sid, sub in list(book.active.items()):
                if (sub.method, sub.label) not in want:
                    book.drop(sid)
                    frames.append(request(book.next_id, sub.unsubscribe_method, (sid,)))
                    book.next_id += 1
            for rid, sub in book.pending.items():
                if (sub.method, sub.label) not in want:
                    self._cancelled.add(rid)  # unsubscribed as soon as it is answered
            asking = self._asking
            for k in [k for k in asking if k not in want]:
                del asking[k]  # not sent yet: never sent
        asking = self._asking
        room = (
            None
            if self.cap is None
            else self.cap - len(self.book.active) - len(self.book.pending) - len(asking)
        )
        # the new ones in the set's order (an endpoint that caps its subscriptions takes
        # whole pools first)
        new = want.keys() - before.keys()
        for k in [k for k in want if k in new] if new else ():
            if room is not None and room <= 0:
                refused.add(k)  # over the endpoint's cap
                continue
            asking[k] = want[k]  # the asker sends it, within the window
            room = None if room is None else room - 1
        self._changes += 1
        self._room.set()
        self.counters.refused = len(refused)
        self.counters.subscriptions = len(self.book.active)
        with contextlib.suppress(Exception):  # a closed socket: the reconnect catches up
            for n, f in enumerate(frames, start=1):
                await ws.send(f)
                if n % BURST_SLICE == 0:
                    await asyncio.sleep(0)

    # ------------------------------------------------------------ streaming
    async def _stream(self, ws: Connection) -> None:
        asked = self.subs if self.cap is None else self.subs[: self.cap]
        over = self.subs[len(asked) :]
        if over:  # over the endpoint's cap: refused without asking
            self._refused |= {(s.method, s.label) for s in over}
            self.counters.refused = len(self._refused)
        # asked for by the asker, within the window, while the connection streams (an
        # update() meanwhile adds to or takes from what is still to ask)
        self._asking.clear()
        self._asking.update(((s.method, s.label), s) for s in asked)
        self._changes += 1
        self._resub_wait = self.config.resubscribe_s
        self._resub_at = time.monotonic_ns() + int(self._resub_wait * 1e9)
        watchdog = asyncio.create_task(self._watch(ws))
        asker = asyncio.create_task(self._ask(ws))
        frame_fn, ep, counters = self.ingest.frame, self.endpoint, self.counters
        last_seen, control, monotonic_ns = self.last_seen, self._control, time.monotonic_ns
        # health, for the backoff: the pulse (slot notifications; any notification when
        # nothing subscribes to slots) delivered for healthy_after_s on this connection
        pulses = self._pulse_ids
        pulses.clear()
        any_pulse = not any(sub.method == "slotSubscribe" for sub in self.subs)
        first_pulse = 0
        healthy_ns = int(self.config.healthy_after_s * 1e9)
        healthy = False

        def on_message(raw: Message) -> None:
            """One message, as it arrives (``raw``: valid only during this call)."""
            nonlocal first_pulse, healthy
            counters.messages += 1
            # stamped as it is handled (after any yield to the loop): frames are handled
            # in the order of their stamps across endpoints, so a duplicate never lags
            # its first copy by less than zero
            now = monotonic_ns()
            counters.last_message_ns = now
            try:
                sid = frame_fn(ep, raw, now)
            except EngineError as exc:
                count_refused(counters, exc, "frame")
                return
            if sid >= 0:
                last_seen[sid] = now
                if not healthy and (any_pulse or sid in pulses):
                    if not first_pulse:
                        first_pulse = now
                    elif now - first_pulse >= healthy_ns:
                        healthy = True
                        self.attempt = 0
            else:  # an answer: the id book's (its frames go out through the outbox)
                control(bytes(raw), now)

        try:
            await ws.stream(on_message, self._outbox)
        finally:
            watchdog.cancel()
            asker.cancel()

    async def _ask(self, ws: Connection) -> None:
        """Send what is to be asked for, in order, while fewer than ``subscribe_window``
        subscribes are unanswered; then wait for answers (or more to ask)."""
        window, pending, asking = self.config.subscribe_window, self.book.pending, self._asking
        sent = 0
        with contextlib.suppress(Exception):  # a closed socket: the reconnect catches up
            while not self._stopping.is_set():  # stopping: nothing more is sent
                if not asking or len(pending) >= window:
                    self._room.clear()
                    await self._room.wait()
                    continue
                _, sub = asking.popitem(last=False)
                await ws.send(self.book.subscribe(sub))
                sent += 1
                if sent % BURST_SLICE == 0:  # a market's thousands: the loop's other work
                    await asyncio.sleep(0)

    def _control(self, raw: bytes, now: int) -> None:
        try:
            msg = parse_frame(raw)
        except ProtocolError as exc:
            self.counters.malformed += 1
            self.counters.error(f"malformed frame: {exc}")
            return
        if self._asking:
            self._room.set()  # an answer may have made room in the window
        if isinstance(msg, (Response, ErrorResponse)) and msg.id in self._unsubscribing:
            self._unsubscribing.discard(msg.id)  # one of stop()'s unsubscribes answered
            if not self._unsubscribing:
                self._unsubscribed.set()
        if isinstance(msg, Response):
            sub = self.book.answered(msg)
            if sub is not None and msg.id in self._cancelled:
                self._cancelled.discard(msg.id)
                self.book.drop(msg.result)
                self._outbox.append(
                    request(self.book.next_id, sub.unsubscribe_method, (msg.result,))
                )
                self.book.next_id += 1
            elif sub is not None:
                self._refused.discard((sub.method, sub.label))
                self.counters.refused = len(self._refused)
                self.ingest.bind(self.endpoint, msg.result, sub.label, _KIND[sub.method])
                if sub.method == "slotSubscribe":
                    self._pulse_ids.add(msg.result)
                self.last_seen[msg.result] = now
                self.counters.subscriptions = len(self.book.active)
        elif isinstance(msg, ErrorResponse):
            sub = self.book.pending.pop(msg.id, None) if msg.id is not None else None
            if sub is not None:
                self._refused.add((sub.method, sub.label))
                self.counters.refused = len(self._refused)
            what = f"{sub.method} {sub.label}" if sub else "request"
            self.counters.error(f"{what} refused: {msg.code} {msg.message}")

    def account_labels(self) -> frozenset[str]:
        """The accounts subscribed on this connection now, or asked for the first time
        and not yet answered or not yet sent (a fresh connection is not "uncovered" for
        the round trip its answers take, nor while its window holds the rest back; one
        asked again after a refusal stays uncovered until accepted)."""
        b, refused = self.book, self._refused
        # what changes the set: an update, a retry or a reconnect (``_changes`` moves), a
        # refusal or an unsubscribe (the total shrinks), ``refused``; a request sent (from
        # asking to pending) or answered (pending to active) moves neither the set nor
        # this key while nothing is refused, so the ~17,700 sends and answers of a burst
        # at 3,000 pools do not each rebuild it (the screen's health asks several times a
        # second); with refusals, an answer may add a label pending left out, so the key
        # counts the active ones apart
        key = (
            self._changes,
            len(b.active) + len(b.pending) + len(self._asking),
            len(b.active) if refused else -1,
        )
        memo = self._labels
        if memo is not None and memo[0] == key and memo[1] == refused:
            return memo[2]
        active = b.accounts()  # (counted as they come and go)
        asked = {
            s.label
            for s in (*b.pending.values(), *self._asking.values())
            if s.method == ACCOUNT and (s.method, s.label) not in refused
        }
        out = active if asked <= active else active | asked
        if memo is not None and out is not memo[2] and out == memo[2]:
            out = memo[2]  # the same set, the same object: what is derived from it is kept
        self._labels = (key, set(refused), out)
        return out

    def _resubscribe(self, now: int) -> None:
        """Ask again for the refused subscriptions (within the learned cap), then wait
        twice as long before the next time. While any subscription asked for is still
        unanswered (a slow endpoint, a busy loop) no round starts: each round asks for
        every refused subscription once, after the endpoint answered all it was asked."""
        c = self.config
        if self.book.pending or self._asking:
            return  # answers outstanding: the next check tries again
        self._resub_wait = min(c.resubscribe_max_s, self._resub_wait * 2)
        self._resub_at = now + int(self._resub_wait * 1e9)
        room = None if self.cap is None else self.cap - len(self.book.active)
        n = 0
        for sub in self.subs:
            key = (sub.method, sub.label)
            if key not in self._refused:
                continue
            if room is not None and room <= 0:
                break
            self._asking[key] = sub  # the asker sends them, within the window
            n += 1
            room = None if room is None else room - 1
        self.resubscribes += n
        self._changes += 1
        self._room.set()

    async def _still_silent(self, limit_s: float) -> bool:
        """After the loop has read what reached the socket (``read_what_came``), whether
        nothing has come for ``limit_s`` still (a late loop is not a silent peer)."""
        await read_what_came()
        active, seen = self.book.active, self.last_seen
        slot_seen = [seen[sid] for sid in self._pulse_ids if sid in active and sid in seen]
        latest = max(slot_seen) if slot_seen else (self.counters.last_message_ns or 0)
        return time.monotonic_ns() - latest > limit_s * 1e9

    async def _watch(self, ws: Connection) -> None:
        """Reconnect when the slot pulse stops; count quiet subscriptions.

        The pulse is looked at every quarter of ``stale_after_s`` (its slot subscriptions
        alone); the quiet subscriptions are counted every sixteenth of ``quiet_after_s``,
        a pass over all of them (~19,000 a connection at 3,000 pools: 3-4 ms each, five
        connections every 0.75 s was ~2 % of the loop and a long step in each wait)."""
        c = self.config
        started = time.monotonic_ns()
        every = min(c.stale_after_s, c.quiet_after_s) / 4
        quiet_every_ns = int(c.quiet_after_s / 16 * 1e9)
        quiet_at = 0  # monotonic ns of the next count of the quiet subscriptions
        while True:
            asked = time.monotonic_ns()
            await asyncio.sleep(every)
            if loop_was_held(asked, every):  # the peer cannot be judged on a held loop
                continue
            now = time.monotonic_ns()
            active, last_seen = self.book.active, self.last_seen
            pulse = max(
                (last_seen.get(sid, started) for sid in self._pulse_ids if sid in active),
                default=None,
            )
            if now >= quiet_at:
                quiet_at = now + quiet_every_ns
                self.counters.stale = self._quiet(now, started)
            stale = self.counters.stale
            if self._refused and now >= self._resub_at and not self._stopping.is_set():
                self._resubscribe(now)
            if pulse is None:  # no slot subscription (yet): any message is the pulse
                pulse = self.counters.last_message_ns or started
            if now - max(pulse, started) > c.stale_after_s * 1e9 and await self._still_silent(
                c.stale_after_s
            ):
                self.counters.stale = max(stale, 1)
                self._close_reason = f"stalled, nothing for {c.stale_after_s:g} s; reconnecting"
                await ws.close(code=1001, reason="stalled")
                return

    def _quiet(self, now: int, started: int) -> int:
        """How many account and logs subscriptions of this connection have been silent
        for ``quiet_after_s`` (one that never spoke: since ``started``)."""
        limit, last_seen, pulses = self.config.quiet_after_s * 1e9, self.last_seen, self._pulse_ids
        return sum(
            1
            for sid in self.book.active
            if sid not in pulses and now - last_seen.get(sid, started) > limit
        )


def all_subscriptions(
    pubkeys: Sequence[str], programs: Sequence[str], commitment: str = "confirmed"
) -> list[Subscription]:
    """The session's subscriptions: the slot pulse, every account, and the logs that mention
    each of ``programs`` (the DEX programs, or the pools when their transactions are read)."""
    from ..wire.protocol import account_subscription, logs_subscription, slot_subscription

    return [
        slot_subscription(),
        *(account_subscription(k, commitment) for k in pubkeys),
        *(logs_subscription(p, commitment) for p in programs),
    ]

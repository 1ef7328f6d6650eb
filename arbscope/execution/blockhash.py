"""The blockhash live orders name, kept fresh off the event loop.

An order signed on the fast path names the blockhash held at that moment; when none is
fresh, the order goes the ordinary way and waits for a read (seconds on a busy node). The
event loop is not a place to keep it: a dashboard behind its feeds runs its loop's
callbacks late by hundreds of milliseconds, and a read whose answer sat in the socket for
a second came back too old (``bench.live``: the p99 of tick to trade was those orders).

So a :class:`BlockhashKeeper` reads ``getLatestBlockhash`` on threads of its own, one per
RPC endpoint it is given (the node orders go to, and the feeds' nodes: one chain, so any
node's answer is valid), every :data:`EVERY_S`, over a kept-alive HTTP connection; the
held one is the answer with the highest ``lastValidBlockHeight`` (the freshest: a node
that lags answers an older one, which never replaces a newer). An endpoint that is down,
slow or refusing costs nothing while another answers: the reads are hedged. A rate-limit
answer (HTTP 429, or a JSON-RPC rate-limit code) backs that endpoint off for its
``Retry-After`` (else :data:`BACKOFF_S`); every other error for :data:`BACKOFF_S`.

What the keeper holds is also what the ordinary way reads (:meth:`offer` takes an answer
read on the loop). Errors are kept per endpoint, the URL redacted.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from feeds.clients.ratelimit import retry_after_seconds
from feeds.clients.rpc import RpcClient, RpcError
from feeds.clients.tls import ssl_for
from feeds.redact import redact

EVERY_S = 0.4  # a read per endpoint this often (a slot on mainnet, 10 of bench.live's)
TIMEOUT_S = 2.0  # a read's connect and answer, each
BACKOFF_S = 1.0  # after an error (a rate limit: its Retry-After when it says one)
MAX_ANSWER = 64 * 1024  # a getLatestBlockhash answer is ~200 bytes


@dataclass(frozen=True, slots=True)
class Held:
    """A blockhash and what bounds its life: the last block height it is valid at, when
    it was asked for (``time.monotonic``, the request's start: its age is at least
    that) and the slot of the node's answer (its context)."""

    blockhash: str
    last_valid: int
    asked: float
    slot: int


class BlockhashKeeper:
    """Threads reading the latest blockhash from each of ``urls`` (see the module doc).
    ``start`` once armed, ``stop`` when live trading stops; :meth:`held` is the freshest
    answer so far."""

    def __init__(
        self,
        urls: Sequence[str],
        ca_file: str | None = None,
        every_s: float = EVERY_S,
        timeout_s: float = TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.urls = tuple(dict.fromkeys(u for u in urls if u))  # in order, once each
        self.ca_file, self.every_s, self.timeout_s, self.clock = ca_file, every_s, timeout_s, clock
        self._held: Held | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._stop.set()  # (no threads yet)
        self._threads: list[threading.Thread] = []
        self.answers = 0  # answers taken or not (a counter the tests wait on)
        self.errors: dict[str, str] = {}  # redacted URL -> its last error ("" after an answer)
        self.reads: dict[str, int] = {}  # redacted URL -> reads so far, answered or not

    # ------------------------------------------------------------ what orders read
    def held(self) -> Held | None:
        return self._held  # (one reference read: a whole Held, never a torn one)

    def offer(self, blockhash: str, last_valid: int, asked: float, slot: int) -> Held:
        """An answer (a thread's, or one read on the loop): held when it is valid longer
        than the one held (or as long and asked later). The one held after it."""
        with self._cond:
            h = self._held
            if h is None or (last_valid, asked) > (h.last_valid, h.asked):
                self._held = h = Held(blockhash, last_valid, asked, slot)
            self.answers += 1
            self._cond.notify_all()
            return h

    def wait(self, done: Callable[[], bool], timeout: float) -> bool:
        """Until ``done()`` holds, looked at after every read (answered or not) and
        every offer; False when ``timeout`` s passed first."""
        with self._cond:
            return self._cond.wait_for(done, timeout)

    # ------------------------------------------------------------ the threads
    @property
    def running(self) -> bool:
        """Its threads read (started, and not stopped since)."""
        return not self._stop.is_set() and any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        """A thread per URL (none when they run already). Threads stopped a moment ago
        may still finish a read; they end on their own, the new ones read meanwhile."""
        if self.running:
            return
        self._stop = stop = threading.Event()  # this start's own: a later stop ends these
        self._threads = [
            threading.Thread(
                target=self._keep, args=(url, stop), name=f"blockhash-{i}", daemon=True
            )
            for i, url in enumerate(self.urls)
        ]
        for t in self._threads:
            t.start()

    def stop(self, join_s: float = 0.0) -> None:
        """Stop the threads (each ends within its read's timeout; ``join_s``: wait that
        long for them)."""
        self._stop.set()
        deadline = time.monotonic() + join_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()) if join_s else 0.0)

    def _keep(self, url: str, stop: threading.Event) -> None:
        shown = redact(url)
        reader = _Reader(url, self.ca_file, self.timeout_s)
        try:
            while not stop.is_set():
                asked = self.clock()
                pause = self.every_s
                try:
                    blockhash, last_valid, slot = reader.read()
                except _Refused as exc:
                    self.errors[shown] = str(exc)
                    pause = max(pause, exc.retry_after or BACKOFF_S)
                except RpcError as exc:  # (an answer that is not one: the node's words)
                    self.errors[shown] = str(exc)
                    pause = max(pause, BACKOFF_S)
                except (OSError, http.client.HTTPException) as exc:
                    text = str(exc) or type(exc).__name__
                    self.errors[shown] = f"{reader.where}: {type(exc).__name__}: {text}"
                    reader.close()
                    pause = max(pause, BACKOFF_S)
                else:
                    self.errors[shown] = ""
                    self.offer(blockhash, last_valid, asked, slot)
                with self._cond:
                    self.reads[shown] = self.reads.get(shown, 0) + 1
                    self._cond.notify_all()
                stop.wait(max(0.0, asked + pause - self.clock()))
        finally:
            reader.close()

    def error(self) -> str:
        """The endpoints' errors, when none of them answered last ("" otherwise)."""
        said = [e for e in self.errors.values() if e]
        return "; ".join(said) if said and len(said) == len(self.urls) else ""


class _Refused(Exception):
    """A rate-limit answer (``retry_after``: what it said, seconds)."""

    def __init__(self, text: str, retry_after: float | None) -> None:
        super().__init__(text)
        self.retry_after = retry_after


class _Reader:
    """``getLatestBlockhash`` over one kept-alive HTTP(S) connection (a thread's own)."""

    def __init__(self, url: str, ca_file: str | None, timeout_s: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.tls = ssl_for(url, ca_file)
        self.where = f"getLatestBlockhash at {redact(url)}"
        self.timeout_s = timeout_s
        self.conn: http.client.HTTPConnection | None = None
        self._id = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            if self.tls is not None:
                self.conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout_s, context=self.tls
                )
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        return self.conn

    def read(self) -> tuple[str, int, int]:
        """(blockhash, last valid block height, the answer's slot); ``_Refused`` for a
        rate limit, RpcError for an answer that is not one (``RpcClient.result_of``'s,
        as every client reads one), OSError and ``http.client.HTTPException`` as the
        connection fails."""
        self._id += 1
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": self._id,
                "method": "getLatestBlockhash",
                "params": [{"commitment": "confirmed"}],
            }
        ).encode()
        conn = self._connection()
        conn.request("POST", self.path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read(MAX_ANSWER + 1)
        if resp.status == 429:
            after = retry_after_seconds(resp.getheader("Retry-After"))
            raise _Refused(f"{self.where}: HTTP 429 rate limited", after)
        if resp.status != 200:
            raise RpcError(f"{self.where}: HTTP {resp.status}")
        if len(raw) > MAX_ANSWER:
            raise RpcError(f"{self.where}: an answer over {MAX_ANSWER} bytes")
        try:
            msg = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise RpcError(f"{self.where}: the answer is not JSON") from None
        try:
            res = RpcClient.result_of(msg, self.where)
        except RpcError as exc:
            if exc.rate_limited:
                raise _Refused(str(exc), None) from None
            raise
        try:
            value, slot = res["value"], int(res["context"]["slot"])
            blockhash, last_valid = str(value["blockhash"]), int(value["lastValidBlockHeight"])
        except (KeyError, TypeError, ValueError):
            raise RpcError(f"{self.where}: the answer has no blockhash") from None
        return blockhash, last_valid, slot


__all__ = ["BlockhashKeeper", "Held"]

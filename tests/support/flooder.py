"""A PubSub client that floods one endpoint, run as its own process beside the tests'
normal clients (``python -m tests.support.flooder WS_URL MODE``), so the flood competes
with them as another program on the machine would, not inside the server's own loop.

Modes:
- ``retry``: a subscription the node refuses, sent again the moment its refusal
  arrives (a client retrying in a tight loop).
- ``pipeline``: the same request sent over and over on a raw socket that never reads
  a single answer (a small receive window, so the node's answers back up at once).

It prints ``flooding`` once under way, then runs until a line arrives on stdin (or
stdin closes), or ``MAX_REQUESTS`` / ``MAX_SECONDS`` run out, and prints
``sent N answered M``. Every answer it reads must be the node's refusal.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

from websockets.sync.client import connect

MAX_REQUESTS = 2_000_000
MAX_SECONDS = 120.0
REFUSED = {"code": -32602, "message": "Invalid Request: Invalid pubkey provided"}
REQUEST = '{"jsonrpc":"2.0","id":0,"method":"accountSubscribe","params":["nope"]}'


def _frame(text: str) -> bytes:
    """One masked client text frame (RFC 6455 §5.2) of a short message."""
    payload = text.encode()
    assert len(payload) < 126
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes((0x81, 0x80 | len(payload))) + key + masked


def _pipeline(url: str, stop: threading.Event) -> tuple[int, int]:
    """Send the refused request without ever reading an answer, on a raw socket with a
    small receive window (no library buffers the answers for it): the node's answers
    back up, and so, once it stops reading, do the requests."""
    where = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((where.hostname, where.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: {where.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: nothing past the handshake is read
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit(f"no WebSocket: {head!r}")
    frame = _frame(REQUEST)
    sent = 0
    deadline = time.monotonic() + MAX_SECONDS
    while not stop.is_set() and sent < MAX_REQUESTS and time.monotonic() < deadline:
        sock.sendall(frame)
        sent += 1
        if sent == 100:
            print("flooding", flush=True)
    return sent, 0


def _retry(url: str, stop: threading.Event) -> tuple[int, int]:
    """Send the refused request again the moment its refusal arrives."""
    sent = answered = 0
    deadline = time.monotonic() + MAX_SECONDS
    with connect(url, max_size=None) as ws:
        while not stop.is_set() and sent < MAX_REQUESTS and time.monotonic() < deadline:
            ws.send(REQUEST.replace('"id":0', f'"id":{sent}'))
            sent += 1
            answer = json.loads(ws.recv(timeout=30))
            if answer.get("error") != REFUSED or answer.get("id") != sent - 1:
                raise SystemExit(f"not the node's refusal: {answer}")
            answered += 1
            if sent == 100:
                print("flooding", flush=True)
    return sent, answered


def main(url: str, mode: str) -> None:
    stop = threading.Event()

    def wait_for_stop() -> None:
        sys.stdin.readline()
        stop.set()

    threading.Thread(target=wait_for_stop, daemon=True).start()
    sent, answered = (_retry if mode == "retry" else _pipeline)(url, stop)
    print(f"sent {sent} answered {answered}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

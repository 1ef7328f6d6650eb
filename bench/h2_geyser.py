"""A Geyser ``Subscribe`` server at the wire's speed, for ``bench.grpc_e2e`` only.

The simulator's Geyser service (grpc.aio, one ``yield`` an update) writes ~20,000-30,000
updates/s on two cores: below what a receiver is asked to take. This server plays back
updates the simulator rendered (captured by the bench from a real flood), pre-framed
(``h2``, sans-I/O, on asyncio, for the connection and its stream). The flood's HTTP/2
DATA frames (as large as the client allows) go straight to the socket, each frame's
9-byte header and its slice of the one flood buffer in a gather write (``sendmsg`` of
memoryviews: the kernel's copy only, no Python copy, no h2-side copy, no buffer in the
transport), as many frames at once as the client's flow-control window takes (up to 4
MiB; h2's own bytes, the acknowledgements of settings and pings a grpc.aio client waits
for before it grants more window, go between two writes): the server's cost per update
is the kernel's, so the rate measured is the client's. That is for a client that grants
a wide window (>= 1 MiB: the native receiver's is 16 MiB); one that grants it a little
at a time (grpc.aio's C-core, 64 KiB at first) is served through ``h2.send_data`` as
before, so the grpc.aio rows compare with earlier runs. (Through ``h2.send_data`` and
``transport.write`` the server spent about twice the native client's CPU per flood,
copying and faulting in fresh buffers: the bench then measured this server.)

``python -m bench.h2_geyser DIR N``: N endpoints on 127.0.0.1 (one port each, printed
one a line). Commands on stdin, one a line: ``streams`` (the open streams of each
endpoint, printed), ``load`` (the files read again), ``flood`` (every stream sends its
endpoint's ``DIR/<i>.grpc``, the gRPC-framed updates, then ``done`` is printed), ``pace
RATE`` (every stream sends its updates at RATE a second, each in a DATA frame of its own,
more when it is larger than a frame, written as it falls due and stamped
``CLOCK_MONOTONIC`` ns as it is written; then one line, the JSON list of each endpoint's
stamps: a paced run's "queued" times without the simulator's gRPC server in between). No
filter is read, no ping sent.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import socket
import sys
import time
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.exceptions

_CHUNK = 4 << 20  # written at once at most (h2's own bytes go between two)
_PARTS = 512  # buffers a sendmsg at most (IOV_MAX is 1024)
_WIDE = 1 << 20  # a client window from which the flood goes straight to the socket


async def _send(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, parts: list[bytes | memoryview]
) -> None:
    """``parts`` written in order: one ``sendmsg`` (a gather write), the rest as the socket
    takes it."""
    try:
        n = sock.sendmsg(parts)
    except BlockingIOError:
        n = 0
    for p in parts:
        if n >= len(p):
            n -= len(p)
            continue
        await loop.sock_sendall(sock, memoryview(p)[n:])
        n = 0


class _Conn(asyncio.Protocol):
    def __init__(self, service: _Service) -> None:
        self.service = service
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.stream: int | None = None
        self.transport: asyncio.Transport | None = None
        self.window = asyncio.Event()  # the client granted more window
        self.flooding = False
        self.held = bytearray()  # h2's own bytes while a flood writes (after it)
        self.pending = memoryview(b"")  # (a small window's flood: through h2)
        self.sent: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.conn.initiate_connection()
        transport.write(self.conn.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        self.service.conns.discard(self)
        self.transport = None
        self.window.set()
        if self.sent is not None and not self.sent.done():
            self.sent.set_result(None)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            assert self.transport is not None
            self.transport.close()
            return
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                self.stream = ev.stream_id
                self.conn.send_headers(
                    ev.stream_id, [(b":status", b"200"), (b"content-type", b"application/grpc")]
                )
                self.service.conns.add(self)
            elif isinstance(ev, h2.events.DataReceived):
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                self.window.set()
                self._pump()
        self._write()

    def _write(self) -> None:
        out = self.conn.data_to_send()
        if not out or self.transport is None:
            return
        if self.flooding:  # (the flood writes them between its frames: never inside one)
            self.held += out
            self.window.set()
        else:
            self.transport.write(out)

    async def flood(self) -> None:
        """The endpoint's flood on this stream: DATA frames as large as the client takes,
        as many as its window allows, each frame's header and its slice of the flood
        written together (``sendmsg``: no copy of the flood in Python)."""
        sid, transport = self.stream, self.transport
        if sid is None or transport is None:
            return
        while transport.get_write_buffer_size():  # (h2's last bytes, before ours)
            await asyncio.sleep(0.001)
        if self.conn.local_flow_control_window(sid) < _WIDE:
            # a client that grants window a little at a time (grpc.aio's C-core): through h2
            # as it grants it, the bytes copied (as before: its rows compare with earlier runs)
            self.sent = asyncio.get_running_loop().create_future()
            self.pending = memoryview(self.service.framed)
            self._pump()
            await self.sent
            return
        raw = transport.get_extra_info("socket")
        sock = socket.socket(fileno=os.dup(raw.fileno()))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        flood = memoryview(self.service.framed)
        pos = 0
        self.flooding = True
        try:
            while pos < len(flood) and self.transport is not None:
                if self.held:  # h2's own (acks: a client may wait for one to grant window)
                    out = bytes(self.held)
                    self.held.clear()
                    await _send(loop, sock, [out])
                    continue
                budget = min(self.conn.local_flow_control_window(sid), len(flood) - pos, _CHUNK)
                if budget <= 0:  # the client's window is spent: until it grants more
                    self.window.clear()
                    await self.window.wait()
                    continue
                size = self.conn.max_outbound_frame_size
                parts: list[bytes | memoryview] = []
                end = pos
                while end < pos + budget and len(parts) < _PARTS:
                    n = min(size, pos + budget - end)
                    parts.append(n.to_bytes(3, "big") + b"\x00\x00" + sid.to_bytes(4, "big"))
                    parts.append(flood[end : end + n])
                    end += n
                # h2 keeps the windows: what goes around it is taken from them as it would
                self.conn.outbound_flow_control_window -= end - pos
                self.conn.streams[sid].outbound_flow_control_window -= end - pos
                await _send(loop, sock, parts)
                pos = end
        except OSError:
            pass  # the client went: the flood ends with it
        finally:
            self.flooding = False
            sock.close()
            if self.held and self.transport is not None:
                self.transport.write(bytes(self.held))
            self.held.clear()

    def _pump(self) -> None:
        """A small window's flood: as much as the window takes through h2."""
        sid = self.stream
        if sid is None or self.flooding:
            return
        while self.pending:
            n = min(
                self.conn.local_flow_control_window(sid),
                self.conn.max_outbound_frame_size,
                len(self.pending),
            )
            if n <= 0:
                break
            self.conn.send_data(sid, self.pending[:n].tobytes())
            self.pending = self.pending[n:]
        self._write()
        if not self.pending and self.sent is not None and not self.sent.done():
            self.sent.set_result(None)

    async def pace(self, rate: float) -> list[int]:
        """The endpoint's updates at ``rate`` a second, one DATA frame each, written as
        each falls due (those due at once together); each one's write time."""
        sid, transport = self.stream, self.transport
        if sid is None or transport is None:
            return []
        stamps: list[int] = []
        framed = memoryview(self.service.framed)
        spans, pos = [], 0
        while pos < len(framed):  # each update's gRPC-framed bytes
            end = pos + 5 + int.from_bytes(framed[pos + 1 : pos + 5], "big")
            spans.append((pos, end))
            pos = end
        start, i = time.monotonic(), 0
        while i < len(spans) and self.transport is not None:
            due = start + i / rate - time.monotonic()
            if due > 0:
                await asyncio.sleep(due)
            now = time.monotonic()
            while i < len(spans) and start + i / rate <= now:
                a, b = spans[i]
                while self.conn.local_flow_control_window(sid) < b - a:
                    self.window.clear()
                    await self.window.wait()
                    if self.transport is None:
                        return stamps
                step = self.conn.max_outbound_frame_size
                for at in range(a, b, step):  # (one frame unless it is larger)
                    self.conn.send_data(sid, framed[at : min(b, at + step)].tobytes())
                stamps.append(time.monotonic_ns())
                self._write()
                i += 1
        return stamps


class _Service:
    def __init__(self, framed: bytes) -> None:
        self.framed = framed
        self.conns: set[_Conn] = set()

    def load(self, framed: bytes) -> None:
        self.framed = framed


async def main(folder: Path, endpoints: int) -> None:
    loop = asyncio.get_running_loop()
    services = []
    for i in range(endpoints):
        svc = _Service((folder / f"{i}.grpc").read_bytes())
        server = await loop.create_server(functools.partial(_Conn, svc), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        services.append(svc)
        print(f"grpc://127.0.0.1:{port}", flush=True)
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        cmd = line.strip()
        if cmd == "streams":
            print(" ".join(str(len(s.conns)) for s in services), flush=True)
        elif cmd == "load":  # the files again (a new capture)
            for i, svc in enumerate(services):
                svc.load((folder / f"{i}.grpc").read_bytes())
            print("loaded", flush=True)
        elif cmd == "flood":
            conns = [c for s in services for c in list(s.conns)]
            await asyncio.gather(*(c.flood() for c in conns))
            print("done", flush=True)
        elif cmd.startswith("pace "):
            rate = float(cmd.split()[1])
            paced = await asyncio.gather(*(c.pace(rate) for s in services for c in list(s.conns)))
            print(json.dumps(paced), flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))

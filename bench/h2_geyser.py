"""A Geyser ``Subscribe`` server at the wire's speed, for ``bench.grpc_e2e`` only.

The simulator's Geyser service (grpc.aio, one ``yield`` an update) writes ~20,000-30,000
updates/s on two cores: below what a receiver is asked to take. This server plays back
updates the simulator rendered (captured by the bench from a real flood), pre-framed
(``h2``, sans-I/O, on asyncio, for the connection and its stream). The flood's HTTP/2
DATA frames (as large as the client allows) are encoded once per stream id and frame size
before the first byte goes, then written from that one buffer straight to the socket
(``loop.sock_sendall`` on a memoryview: the kernel's copy only, no Python copy, no
h2-side copy, no buffer in the transport), as many frames at once as the client's
flow-control window takes: the server's cost per update is the kernel's, so the rate
measured is the client's. (Through ``h2.send_data`` and ``transport.write`` the server
spent about twice the client's CPU per flood copying and faulting in fresh buffers: the
bench then measured this server.)

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

_DATA_HEADER = 9  # an HTTP/2 frame's header: length u24, type u8, flags u8, stream u32


def data_frames(payload: bytes, stream_id: int, frame_size: int) -> tuple[bytes, list[int]]:
    """``payload`` as HTTP/2 DATA frames (no flags) of at most ``frame_size`` bytes each on
    ``stream_id``, one buffer; and each frame's payload length."""
    parts: list[bytes | memoryview] = []
    sizes: list[int] = []
    view = memoryview(payload)
    for at in range(0, len(payload), frame_size):
        chunk = view[at : at + frame_size]
        n = len(chunk)
        parts.append(n.to_bytes(3, "big") + b"\x00\x00" + stream_id.to_bytes(4, "big"))
        parts.append(chunk)
        sizes.append(n)
    return b"".join(parts), sizes


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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.conn.initiate_connection()
        transport.write(self.conn.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        self.service.conns.discard(self)
        self.transport = None
        self.window.set()

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
        self._write()

    def _write(self) -> None:
        out = self.conn.data_to_send()
        if not out or self.transport is None:
            return
        if self.flooding:  # (the flood's frames go around the transport: never between)
            self.held += out
        else:
            self.transport.write(out)

    async def flood(self) -> None:
        """The endpoint's flood on this stream, frames as the window allows."""
        sid, transport = self.stream, self.transport
        if sid is None or transport is None:
            return
        frames, sizes = self.service.frames(sid, self.conn.max_outbound_frame_size)
        while transport.get_write_buffer_size():  # (h2's last bytes, before ours)
            await asyncio.sleep(0.001)
        raw = transport.get_extra_info("socket")
        sock = socket.socket(fileno=os.dup(raw.fileno()))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        view = memoryview(frames)
        pos = i = 0
        self.flooding = True
        try:
            while i < len(sizes) and self.transport is not None:
                window = self.conn.local_flow_control_window(sid)
                j, take, end = i, 0, pos
                while j < len(sizes) and take + sizes[j] <= window:
                    take += sizes[j]
                    end += _DATA_HEADER + sizes[j]
                    j += 1
                if j == i:  # the next frame waits for the client's window
                    self.window.clear()
                    await self.window.wait()
                    continue
                # h2 keeps the windows: what goes around it is taken from them as it would
                self.conn.outbound_flow_control_window -= take
                self.conn.streams[sid].outbound_flow_control_window -= take
                await loop.sock_sendall(sock, view[pos:end])
                pos, i = end, j
        except OSError:
            pass  # the client went: the flood ends with it
        finally:
            self.flooding = False
            sock.close()
            if self.held and self.transport is not None:
                self.transport.write(bytes(self.held))
            self.held.clear()

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
        self._frames: dict[tuple[int, int], tuple[bytes, list[int]]] = {}

    def load(self, framed: bytes) -> None:
        self.framed = framed
        self._frames.clear()

    def frames(self, stream_id: int, frame_size: int) -> tuple[bytes, list[int]]:
        """The flood as DATA frames for this stream id and frame size (encoded once)."""
        key = (stream_id, frame_size)
        if key not in self._frames:
            self._frames[key] = data_frames(self.framed, stream_id, frame_size)
        return self._frames[key]


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
            for c in conns:  # every stream's frames encoded before the first is written
                if c.stream is not None:
                    c.service.frames(c.stream, c.conn.max_outbound_frame_size)
            await asyncio.gather(*(c.flood() for c in conns))
            print("done", flush=True)
        elif cmd.startswith("pace "):
            rate = float(cmd.split()[1])
            paced = await asyncio.gather(*(c.pace(rate) for s in services for c in list(s.conns)))
            print(json.dumps(paced), flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))

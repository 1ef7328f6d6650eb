"""A Geyser ``Subscribe`` server at the wire's speed, for ``bench.grpc_e2e`` only.

The simulator's Geyser service (grpc.aio, one ``yield`` an update) writes ~20,000-30,000
updates/s on two cores: below what a receiver is asked to take. This server plays back
updates the simulator rendered (captured by the bench from a real flood), pre-framed, in
HTTP/2 DATA frames as large as the client allows (``h2``, sans-I/O, on asyncio): its
cost per update is a memory copy, so the rate measured is the client's.

``python -m bench.h2_geyser DIR N``: N endpoints on 127.0.0.1 (one port each, printed
one a line). Commands on stdin, one a line: ``streams`` (the open streams of each
endpoint, printed), ``load`` (the files read again), ``flood`` (every stream sends its
endpoint's ``DIR/<i>.grpc``, the gRPC-framed updates, then ``done`` is printed). No
filter is read, no ping sent.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.exceptions


class _Conn(asyncio.Protocol):
    def __init__(self, service: _Service) -> None:
        self.service = service
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.stream: int | None = None
        self.pending = memoryview(b"")
        self.transport: asyncio.Transport | None = None
        self.sent: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.conn.initiate_connection()
        transport.write(self.conn.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        self.service.conns.discard(self)
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
                self._pump()
        self._write()

    def _write(self) -> None:
        out = self.conn.data_to_send()
        if out and self.transport is not None:
            self.transport.write(out)

    def flood(self, framed: bytes) -> asyncio.Future[None]:
        self.sent = asyncio.get_running_loop().create_future()
        self.pending = memoryview(framed)
        self._pump()
        return self.sent

    def _pump(self) -> None:
        if self.stream is None:
            return
        while self.pending:
            n = min(
                self.conn.local_flow_control_window(self.stream),
                self.conn.max_outbound_frame_size,
                len(self.pending),
            )
            if n <= 0:
                break
            self.conn.send_data(self.stream, self.pending[:n].tobytes())
            self.pending = self.pending[n:]
        self._write()
        if not self.pending and self.sent is not None and not self.sent.done():
            self.sent.set_result(None)


class _Service:
    def __init__(self, framed: bytes) -> None:
        self.framed = framed
        self.conns: set[_Conn] = set()


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
                svc.framed = (folder / f"{i}.grpc").read_bytes()
            print("loaded", flush=True)
        elif cmd == "flood":
            await asyncio.gather(*(c.flood(s.framed) for s in services for c in list(s.conns)))
            print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))

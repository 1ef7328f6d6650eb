"""`python -m bench.live`: what a live order costs, against the simulator on loopback.

1. **Build + sign** (CPU only): the instructions of a 3-hop cycle (compute budget, three
   swaps, a tip), compiled into a v0 message (solders) and signed as a wallet signs
   (``keys.Signer``: OpenSSL's ed25519) — median of ``--reps`` runs; the peer is solders'
   ``VersionedTransaction(msg, [keypair])``.
2. **The hot path in process** (``--hot`` reps, 0: not run): one GO cycle on the embedded
   simulator's quiet market, the fast path's steps from the quote to the request's body
   (held state, day file, build, sign, size check, base64), no dashboard, no feed load:
   what the path itself costs — median µs each; then the same with the CPU's caches
   written over before each rep (``COLD_MB``): what it costs in a session under load,
   whose frames evict it between two orders.
3. **Tick to trade**: a simulator in its own process (the UI bench's busy market by
   default: 3 endpoints, 160 pools, 60 trades per 40 ms slot, accepting transactions;
   the wallet funded by its faucet over RPC) and a session trading live on it in auto
   mode for ``--seconds`` each way, the dashboard running (Textual's headless driver, as
   ``bench.ui`` runs it). Per order that a frame triggered, the µs from the
   frame's receipt to the decision, to the day's cap kept (the journal committed), built,
   signed, simulated, and to the send request's body written to its socket; p50 / p99.
   Three ways: a Jito bundle unsimulated by policy (``live.simulate = plain``: the
   fast path's goal, p50 <= 0.5 ms, p99 <= 2 ms), a plain transaction simulated first,
   and the same with the fast path off (every order reads its accounts first: what each
   order did before). Per order also the templates its hot path compiled (0: patched
   only) and, for one that went the ordinary way, why. Each way runs once per
   ``--sim-nice`` value: the simulator process at that CPU niceness (``os.nice``; on
   mainnet the node is another machine, here it shares the two cores), both reported.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.ui import market_args, serve


def build_and_sign(reps: int) -> dict[str, float]:
    from solders.hash import Hash
    from solders.keypair import Keypair
    from solders.message import MessageV0
    from solders.transaction import VersionedTransaction

    from arbscope.execution.keys import Signer
    from arbscope.execution.live import compile_and_sign
    from feeds.sim.world import World, WorldConfig
    from feeds.venues import orca_whirlpool, raydium_amm_v4, raydium_cpmm
    from feeds.wire import instructions as I

    w = World(WorldConfig(seed=7))
    kp = Keypair()
    me = str(kp.pubkey())
    cp = next(p for p in w.pools if p.kind == "cpmm")
    v4 = next(p for p in w.pools if p.kind == "amm_v4")
    wp = next(p for p in w.pools if p.kind == "whirlpool")
    bh = str(Hash.default())
    payer = kp.pubkey()

    m0, m1, m2 = w.mints[:3]  # a cycle's three tokens: m0 -> m1 -> m2 -> m0

    def ata(mint: str) -> str:
        return I.ata_address(me, mint)

    def instructions() -> list[Any]:
        r, s = cp.record, wp.spec
        return [
            I.set_compute_unit_limit(260_000),
            I.set_compute_unit_price(12_345),
            raydium_cpmm.swap_base_input(
                me,
                r.amm_config,
                cp.address,
                ata(m0),
                ata(m1),
                cp.vault_a,
                cp.vault_b,
                I.SPL_TOKEN,
                I.SPL_TOKEN,
                m0,
                m1,
                r.observation_key,
                10**9,
                10**6,
            ),
            raydium_amm_v4.swap_base_in(
                v4.address, v4.vault_a, v4.vault_b, ata(m1), ata(m2), me, 10**9, 10**6
            ),
            orca_whirlpool.swap(
                me,
                wp.address,
                ata(m2),
                wp.vault_a,
                ata(m0),
                wp.vault_b,
                orca_whirlpool.swap_tick_arrays(wp.address, s.tick_spacing, s.tick_current, True),
                orca_whirlpool.oracle(wp.address),
                10**9,
                10**6,
                True,
            ),
            I.transfer(me, I.JITO_TIP_ACCOUNTS[0], 10_000),
        ]

    signer = Signer(kp)  # what a wallet signs with (OpenSSL's ed25519)

    def ours() -> VersionedTransaction:
        return compile_and_sign(signer, payer, instructions(), bh)

    def peer() -> VersionedTransaction:  # solders' own way: the constructor signs
        msg = MessageV0.try_compile(payer, instructions(), [], Hash.from_string(bh))
        return VersionedTransaction(msg, [kp])

    if bytes(ours()) != bytes(peer()):  # also warms the PDA caches (a session derives once)
        raise AssertionError("compile_and_sign and solders' constructor disagree")
    out: dict[str, float] = {"bytes": len(bytes(ours()))}
    for name, fn in (("ours", ours), ("peer", peer)):
        times = []
        for _ in range(reps):
            t0 = time.perf_counter_ns()
            fn()
            times.append(time.perf_counter_ns() - t0)
        times.sort()
        out[f"{name}_median_us"] = statistics.median(times) / 1e3
        out[f"{name}_p90_us"] = times[len(times) * 9 // 10] / 1e3
    out["median_us"], out["p90_us"] = out["ours_median_us"], out["ours_p90_us"]
    return out


COLD_MB = 96  # what a cold rep writes through first: more than the CPU's caches hold


def _cold_caches(buf: bytearray, line: bytes) -> None:
    """Write a byte of every cache line of ``buf``: what the path had in the CPU's caches
    is gone, as it is after the thousands of frames a loaded session handles between two
    orders."""
    buf[::64] = line


async def _hot_path(reps: int, cold: bool = False) -> dict[str, float]:
    """The hot path's CPU steps in process, ``reps`` times on one GO cycle (median µs each):
    a live session on the embedded simulator (a quiet market: a test's knocks make the
    cycle), armed with a block engine and kept warm; per rep a fresh order through
    ``_fire``'s steps up to the send: held state and blockhash, the day file (read, cap,
    append), ``build_warm``, ``sign_held``, the size check and the body's base64. ``cold``:
    the CPU's caches written over before each rep (``COLD_MB``, untimed), as a session
    under load meets them."""
    import base64
    from dataclasses import replace

    from arbscope.execution.build import too_big
    from arbscope.execution.keys import write_keypair
    from arbscope.execution.orders import LiveOrder
    from tests.support.live import go_cycle, live_session

    with tempfile.TemporaryDirectory(prefix="arbscope-bench-") as d:
        (Path(d) / "k").mkdir()
        key = Path(d) / "k" / "live.json"
        write_keypair(key)
        db = Path(d) / "j.sqlite"
        async with live_session(key, db=db, tip_lamports=2_000, simulate="plain") as s:
            ex = s.ev.executor
            assert ex is not None and s.ev.broker is not None
            ex.config = replace(ex.config, jito=s.feeds.endpoints[0].http)
            ok, why = await s.desk.request_live()
            if not ok:
                raise RuntimeError(why)
            await ex.keep_warm()
            s.ev.broker.auto = False
            opp, _ = await go_cycle(s)
            fees = s.ev.fees_of((opp.base_mint, tuple(opp.pools)))
            cu = int(fees.cu_price_micro_lamports)
            amount = int(opp.amount_in)
            steps: dict[str, list[int]] = {
                k: [] for k in ("quote", "held", "day file", "build", "sign", "check+base64")
            }
            buf = bytearray(COLD_MB << 20) if cold else bytearray()
            line = b"\x01" * (len(buf) // 64)
            for i in range(reps):
                if cold:
                    _cold_caches(buf, line)
                t0 = time.perf_counter_ns()
                hops, qs = ex.core.graph().quote_steps(list(opp.pools), opp.base_mint, amount)
                o = LiveOrder(
                    10_000 + i,
                    "auto",
                    (opp.base_mint, tuple(opp.pools)),
                    list(opp.tokens),
                    list(opp.pools),
                    list(opp.kinds),
                    amount,
                    list(hops),
                    [int(x) for x in qs],
                )
                t1 = time.perf_counter_ns()
                states = ex.builder.warm(o)
                if states is None or ex.core.held_blockhash() is None:
                    raise RuntimeError("the fast path's state is not held")
                t2 = time.perf_counter_ns()
                assert ex.ledger is not None
                ex.ledger.spent_now(ex.core.day)
                if ex.gate.day_error(amount):
                    raise RuntimeError("over the day's cap")
                ex.ledger.note(o.seq, ex.core.day, 0)
                t3 = time.perf_counter_ns()
                built = ex.builder.build_warm(o, cu, states)
                t4 = time.perf_counter_ns()
                assert built is not None
                signed = ex.templates.sign_held(built[0])
                t5 = time.perf_counter_ns()
                assert signed is not None
                if too_big(signed[4], signed[1]):
                    raise RuntimeError("too big")
                base64.b64encode(signed[1]).decode()
                t6 = time.perf_counter_ns()
                for k, (a, b) in zip(
                    steps, itertools.pairwise((t0, t1, t2, t3, t4, t5, t6)), strict=True
                ):
                    steps[k].append(b - a)
            s.desk.kill()
    out = {k: statistics.median(v) / 1e3 for k, v in steps.items()}
    out["total"] = sum(out.values())
    return out


WAYS = {
    "bundle, unsimulated (fast path)": {"bundle": True, "fast": True},
    "plain, simulated (fast path)": {"bundle": False, "fast": True},
    "plain, simulated, accounts read first": {"bundle": False, "fast": False},
}


async def tick_to_trade(urls: list[list[str]], a: argparse.Namespace, way: str) -> dict[str, Any]:
    """One way of :data:`WAYS` for ``a.seconds``: each frame-triggered order's steps (µs)."""
    from arbscope import sources
    from arbscope.execution.keys import load_wallet, write_keypair
    from arbscope.execution.live import LiveConfig
    from arbscope.execution.orders import STEPS_TIMED
    from arbscope.session import RecordSettings
    from feeds.clients.pool import Endpoint
    from feeds.clients.rpc import RpcClient
    from feeds.sim.world import World, WorldConfig
    from feeds.wire import instructions as I
    from tui.app import ArbscopeApp

    opts = WAYS[way]
    w = World(WorldConfig(seed=a.seed, tokens=a.tokens, pools=a.pools))
    eps = [Endpoint(f"sim-{i}", u[0], u[1]) for i, u in enumerate(urls)]
    ws, http = urls[0]
    with tempfile.TemporaryDirectory(prefix="arbscope-bench-") as d:
        key = Path(d) / "k.json"
        write_keypair(key)
        me = load_wallet(str(key)).pubkey
        async with RpcClient(http) as rpc:  # the faucet, over RPC
            await rpc.call("requestAirdrop", [me, 100 * 10**9])
            await rpc.call("simFund", [me, w.bases[0], 10**15])
        bundle = bool(opts["bundle"])
        s = sources.session(
            sources.Watch(universe=w.universe(), base_mints=w.bases, seed=a.seed),
            sources.Evaluation(shadow=False),
            endpoints=eps,
            record=RecordSettings(Path(d) / "j.sqlite"),
            live=LiveConfig(
                keypair=str(key),
                rpc=http,
                ws=ws,
                jito=http if bundle else None,
                jito_rps=0.0,
                tip_lamports=I.JITO_MIN_TIP if bundle else 0,
                simulate="plain" if bundle else "always",
                max_trade=10**12,
                max_day=10**15,
                max_open=a.max_open,
            ),
        )
        seen: dict[int, Any] = {}
        lags: list[float] = []
        app = ArbscopeApp(s)  # the dashboard drives the session, as an operator's does
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(300):  # the snapshot and the subscriptions
                await pilot.pause(0.1)
                if s.start_error or (s.feeds.pool is not None and s.snapshot.feeds):
                    break
            if s.start_error:
                raise RuntimeError(s.start_error)
            ok, why = await s.desk.request_live()
            if not ok:
                raise RuntimeError(why)
            assert s.ev.executor is not None
            ex = s.ev.executor
            ex.core.fast_path = bool(opts["fast"])
            ex.core.cpu_clock = bool(getattr(a, "cpu", False))
            await ex.keep_warm()
            lag = asyncio.get_running_loop().create_task(_loop_lag(lags))
            end = time.monotonic() + a.seconds
            while time.monotonic() < end:
                await pilot.pause(0.1)
                for o in ex.orders:
                    seen[o.seq] = o
            lag.cancel()
            s.desk.kill()  # nothing new while the last ones end
            for _ in range(30):
                await pilot.pause(0.1)
                for o in ex.orders:
                    seen[o.seq] = o
            await pilot.press("q")
    orders = list(seen.values())
    timed = [o for o in orders if o.frame_ns and "written" in o.t_ns]
    out: dict[str, Any] = {
        "orders": len(orders),
        "by_status": {
            st: sum(o.status == st for o in orders) for st in sorted({o.status for o in orders})
        },
        "timed": len(timed),
        "each": [(o.seq, o.path, o.compiled, o.fallback, o.timing_us()) for o in timed],
        "compiled": [o.compiled for o in timed if o.path == "fast" and not o.fallback],
        # the deciding thread's CPU from the decision to the signature, against its wall
        "cpu": [
            (o.cpu_ns / 1e3, (o.t_ns["signed"] - o.t_ns["decided"]) / 1e3)
            for o in timed
            if o.cpu_ns > 0
        ],
        "fallbacks": sorted({o.fallback for o in orders if o.fallback}),
        "why": sorted({o.detail[:160] for o in orders if o.status in ("refused", "error")})[:4],
        "paths": {p: sum(o.path == p for o in timed) for p in sorted({o.path for o in timed})},
        "steps": {},
        # how late a 10 ms timer of the dashboard's loop ran, while trading (ms): a frame
        # that arrives meanwhile waits about as long in its socket before its receipt,
        # where an order's clock starts (not in frame -> written)
        "loop_lag_ms": _lag_quantiles(lags),
    }
    marks = ("frame", *STEPS_TIMED)
    for x, y in itertools.pairwise(marks):
        gaps = [o.timing_us()[f"{x}->{y}"] for o in timed if f"{x}->{y}" in o.timing_us()]
        if gaps:
            out["steps"][f"{x}->{y}"] = _quantiles(gaps)
    totals = [o.timing_us()["total"] for o in timed]
    if totals:
        out["steps"]["frame->written"] = _quantiles(totals)
    return out


async def _loop_lag(out: list[float], every_s: float = 0.01) -> None:
    """How late each of a 10 ms sleep's wake-ups is (s), into ``out``, until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + every_s
        await asyncio.sleep(every_s)
        out.append(max(0.0, loop.time() - due))


def _lag_quantiles(lags: list[float]) -> dict[str, float]:
    if not lags:
        return {}
    ordered = sorted(lags)
    k = max(0, -(-len(ordered) * 99 // 100) - 1)
    return {
        "p50": 1e3 * statistics.median(ordered),
        "p99": 1e3 * ordered[k],
        "max": 1e3 * ordered[-1],
        "n": len(ordered),
    }


def _quantiles(xs: list[float]) -> dict[str, float]:
    ordered = sorted(xs)
    k = max(0, -(-len(ordered) * 99 // 100) - 1)
    return {"p50_us": statistics.median(ordered), "p99_us": ordered[k], "n": len(ordered)}


def main(argv: Sequence[str] | None = None) -> int:
    from feeds.wire.txsize import PACKET_DATA_SIZE

    p = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.splitlines()[0])
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--reps", type=int, default=2_000)
    p.add_argument("--seconds", type=float, default=15.0, help="of live trading, each way")
    market_args(p, endpoints=None)
    p.add_argument("--way", choices=list(WAYS), action="append", help="only these (repeat)")
    p.add_argument("--max-open", type=int, default=16, help="live.max_open")
    p.add_argument("--orders", action="store_true", help="print every timed order's steps")
    p.add_argument(
        "--sim-nice",
        default="0,10",
        metavar="N[,N]",
        help="the simulator's CPU niceness, each way run once per value (default 0,10)",
    )
    p.add_argument(
        "--cpu",
        action="store_true",
        help="read the thread's CPU clock from each order's decision to its signature "
        "(two system calls on the hot path: they can hand the core away, so off by default)",
    )
    p.add_argument("--nice", type=int, default=0, help=argparse.SUPPRESS)  # with --serve
    p.add_argument("--json", metavar="PATH")
    p.add_argument(
        "--hot", type=int, default=300, metavar="REPS", help="reps of the in-process hot path"
    )
    a = p.parse_args(argv)
    if a.serve:  # the UI bench's simulator, taking transactions
        if a.nice:
            os.nice(a.nice)
        serve(a.seed, a.tokens, a.pools, a.trades, a.slot_ms, accept_tx=True)
        return 0
    bs = build_and_sign(a.reps)
    fits = "fits" if bs["bytes"] <= PACKET_DATA_SIZE else "OVER"
    print(
        f"build + sign, 3-hop cycle cp->v4->wp + tip (6 instructions, {bs['bytes']:.0f} "
        f"bytes, {fits} the 1,232-byte limit), same bytes both ways:"
    )
    print(f"{'kernel':<22} {'ours µs':>9} {'peer µs':>9}  peer{'':<38} {'peer/ours':>9}")
    print(
        f"{'build+sign (median)':<22} {bs['ours_median_us']:>9.1f} {bs['peer_median_us']:>9.1f}"
        f"  solders VersionedTransaction(msg, [kp]){'':<2} "
        f"{bs['peer_median_us'] / bs['ours_median_us']:>8.2f}x"
    )
    hot = asyncio.run(_hot_path(a.hot)) if a.hot else {}
    cold = asyncio.run(_hot_path(a.hot, cold=True)) if a.hot else {}
    if hot:
        print(
            "the hot path in process, decision to request body (no dashboard, a quiet "
            f"market), median µs of {a.hot}: " + ", ".join(f"{k} {v:.0f}" for k, v in hot.items())
        )
        print(
            f"  the same, the CPU's caches written over ({COLD_MB} MB) before each: "
            + ", ".join(f"{k} {v:.0f}" for k, v in cold.items())
        )
    results: dict[str, Any] = {}
    nices = [int(x) for x in str(a.sim_nice).split(",") if x.strip()]
    for way in a.way or WAYS:
        for nice in nices:
            label = way if nice == 0 else f"{way}, simulator at nice {nice}"
            results[label] = _with_simulator(a, way, nice)
    print(
        f"tick to trade: 3 endpoints, {a.pools} pools, {a.trades} trades per {a.slot_ms:g} ms "
        f"slot (simulator in its own process), {a.seconds:g} s live each way; µs from the "
        "frame's receipt"
    )
    print(f"{'way / step':<44} {'p50 µs':>9} {'p99 µs':>9} {'n':>5}")
    for way, r in results.items():
        print(f"{way}: {r['orders']} orders {r['by_status']}, timed {r['timed']} {r['paths']}")
        for why in r["why"]:
            print(f"  not sent: {why}")
        for why in r["fallbacks"]:
            print(f"  the ordinary way, because: {why}")
        lag = r.get("loop_lag_ms") or {}
        if lag:
            print(
                f"  the dashboard's loop, late by p50 {lag['p50']:.1f} / p99 {lag['p99']:.0f} / "
                f"max {lag['max']:.0f} ms while trading (a frame waits about as long in its "
                "socket before its receipt, where the figures below start)"
            )
        compiled = r["compiled"]
        if compiled:
            print(
                f"  hot path: {sum(c == 0 for c in compiled)} of {len(compiled)} orders "
                f"compiled no template, {sum(compiled)} templates compiled in all (max "
                f"{max(compiled)} an order)"
            )
        if r["cpu"]:
            cpu, wall = (statistics.median(x) for x in zip(*r["cpu"], strict=True))
            print(
                f"  decided -> signed on the hot path: thread CPU p50 {cpu:.0f} µs of wall "
                f"p50 {wall:.0f} µs"
            )
        if a.orders:
            for seq, path, compiled, fallback, t in r["each"]:
                steps = " ".join(f"{k.split('->')[-1]}={v:.0f}" for k, v in t.items())
                why = f" ({fallback})" if fallback else ""
                print(f"  #{seq} {path}{why} compiled={compiled}: {steps}")
        for step, q in r["steps"].items():
            goal = "  goal p50 <= 500, p99 <= 2000" if step == "frame->written" else ""
            print(f"  {step:<42} {q['p50_us']:>9.0f} {q['p99_us']:>9.0f} {q['n']:>5}{goal}")
    if a.json:
        out = {"build_sign": bs, "hot_path": hot, "hot_path_cold": cold, "tick_to_trade": results}
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


def _with_simulator(a: argparse.Namespace, way: str, nice: int = 0) -> dict[str, Any]:
    """:func:`tick_to_trade` against a fresh simulator process (a fresh chain each way)
    at CPU niceness ``nice``."""
    cmd = [sys.executable, "-m", "bench.live", "--serve", "--seed", str(a.seed)]
    cmd += ["--nice", str(nice)]
    cmd += ["--tokens", str(a.tokens), "--pools", str(a.pools), "--trades", str(a.trades)]
    cmd += ["--slot-ms", str(a.slot_ms)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        urls = [proc.stdout.readline().split() for _ in range(3)]
        return asyncio.run(tick_to_trade(urls, a, way))
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bench.live`: what a live order costs, against the simulator on loopback.

1. **Build + sign** (CPU only): the instructions of a 3-hop cycle (compute budget, three
   swaps, a tip), compiled into a v0 message and signed with solders — median of
   ``--reps`` runs.
2. **Pipeline**: a session trading live on the embedded simulator (accepting
   transactions, its faucet funding a fresh key) for ``--seconds``; per order the
   milliseconds from accepted to signed (one ``getMultipleAccounts`` + build + sign), to
   simulated (``simulateTransaction``), to sent (``signatureSubscribe`` +
   ``sendTransaction``) and to confirmed (the transaction lands at the next slot
   boundary: with 400 ms slots about 200 ms on average). Medians and p90.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def build_and_sign(reps: int) -> dict[str, float]:
    from solders.hash import Hash
    from solders.keypair import Keypair
    from solders.message import MessageV0
    from solders.transaction import VersionedTransaction

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

    def ours() -> VersionedTransaction:
        return compile_and_sign(kp, payer, instructions(), bh)

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


async def pipeline(seconds: float, seed: int) -> dict[str, Any]:
    from arbscope import sources
    from arbscope.execution.keys import write_keypair
    from arbscope.execution.live import LiveConfig
    from arbscope.session import RecordSettings

    with tempfile.TemporaryDirectory(prefix="arbscope-bench-") as d:
        key = Path(d) / "k.json"
        write_keypair(key)
        s = sources.session(
            sources.Watch(seed=seed),
            sources.Evaluation(shadow=False),
            sim=sources.SimSettings(accept_tx=True),
            record=RecordSettings(Path(d) / "j.sqlite"),
            live=LiveConfig(keypair=str(key), max_trade=10**12, max_day=10**15, max_open=4),
        )
        await s.start()
        if s.start_error:
            raise RuntimeError(s.start_error)
        try:
            ok, why = await s.request_live()
            if not ok:
                raise RuntimeError(why)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                await asyncio.sleep(0.2)
                s.tick()
            await asyncio.sleep(1.0)  # the last orders land
            s.tick()
            assert s.executor is not None
            orders = list(s.executor.orders)
        finally:
            await s.stop()
    steps = ("signed", "simulated", "sent", "confirmed")
    out: dict[str, Any] = {
        "orders": len(orders),
        "by_status": {
            st: sum(o.status == st for o in orders) for st in sorted({o.status for o in orders})
        },
    }
    prev = "accepted"
    for st in steps:
        gaps = sorted(o.ms[st] - o.ms.get(prev, 0.0) for o in orders if st in o.ms and prev in o.ms)
        if gaps:
            p90 = gaps[len(gaps) * 9 // 10]
            out[f"{prev}->{st}"] = {
                "median_ms": statistics.median(gaps),
                "p90_ms": p90,
                "n": len(gaps),
            }
        prev = st
    total = sorted(o.ms["confirmed"] for o in orders if "confirmed" in o.ms)
    if total:
        p90 = total[len(total) * 9 // 10]
        out["accepted->confirmed"] = {
            "median_ms": statistics.median(total),
            "p90_ms": p90,
            "n": len(total),
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from feeds.wire.txsize import PACKET_DATA_SIZE

    p = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=2_000)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", metavar="PATH")
    a = p.parse_args(argv)
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
    pl = asyncio.run(pipeline(a.seconds, a.seed))
    print(f"live on the simulator for {a.seconds:g} s: {pl['orders']} orders {pl['by_status']}")
    print(f"{'step':<24} {'median ms':>10} {'p90 ms':>10} {'n':>5}")
    for k, v in pl.items():
        if isinstance(v, dict) and "median_ms" in v:
            print(f"{k:<24} {v['median_ms']:>10.2f} {v['p90_ms']:>10.2f} {v['n']:>5}")
    if a.json:
        Path(a.json).write_text(json.dumps({"build_sign": bs, "pipeline": pl}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

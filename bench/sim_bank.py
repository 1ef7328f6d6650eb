"""`python -m bench.sim_bank --programs DIR`: what the real programs as the simulator's
bank (``arbscope sim --programs DIR``) cost its rate, in process (no sockets):

1. **Start**: building the world and its chain, without a bank and with one (the
   binaries loaded into LiteSVM, the DEX binaries probed, the programs' accounts served).
2. **Slots/s, the market alone**: ``World.step`` with no transaction sent (the bank sits
   idle: the market's own trades are the Python programs').
3. **Transactions/s**: every slot, ``--txs`` signed swap transactions (a compute budget
   and one swap through a pool of the venue the row names, each from the same funded
   wallet, alternating direction) sent with ``sendTransaction`` (preflight on: one
   simulation each) and landed at the next slot: slots/s and transactions/s over
   ``--slots`` slots, for Whirlpool (its binary runs in the bank), for AMM v4 (its
   binary refused by the probe: the Python program in both) and for both in one
   transaction (the Whirlpool swap in the bank, the AMM v4 swap in Python), with and
   without a bank.

Rates are medians of ``--reps`` runs; the machine is noisy, nothing is asserted.
``--json FILE`` writes the rows.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from .report import markdown


def _world(programs: str) -> tuple[Any, Any, float]:
    from feeds.sim.bank import Bank
    from feeds.sim.chain import Chain
    from feeds.sim.world import World, WorldConfig

    t = time.perf_counter()
    w = World(WorldConfig(seed=7))
    chain = Chain(w, accept=True, bank=Bank.from_folder(programs) if programs else None)
    return w, chain, time.perf_counter() - t


def start(programs: str, reps: int) -> dict[str, float]:
    """Seconds to build the world and its chain, without and with the bank."""
    return {
        "without": statistics.median(_world("")[2] for _ in range(reps)),
        "with": statistics.median(_world(programs)[2] for _ in range(reps)),
    }


def _ways(programs: str, reps: int) -> list[tuple[str, str]]:
    """(name, folder) of each run: without and with the bank in turns, the first of each
    pair alternating (a busy machine's drift falls on both)."""
    pair = [("without", ""), ("with", programs)]
    return [w for r in range(reps) for w in (pair if r % 2 == 0 else pair[::-1])]


def market(programs: str, slots: int, reps: int) -> dict[str, float]:
    """Slots/s of the market alone, without and with the bank."""
    rates: dict[str, list[float]] = {"without": [], "with": []}
    for name, folder in _ways(programs, reps):
        w, _, _ = _world(folder)
        t = time.perf_counter()
        for _ in range(slots):
            w.step()
        rates[name].append(slots / (time.perf_counter() - t))
    return {k: statistics.median(v) for k, v in rates.items()}


def flow(programs: str, kinds: tuple[str, ...], slots: int, txs: int, reps: int) -> dict[str, Any]:
    """Slots/s and transactions/s with ``txs`` transactions sent every slot, each a swap
    through a pool of every venue of ``kinds``, without and with the bank; the bank's,
    the Python programs' and the mixed run counts."""
    from solders.keypair import Keypair

    from arbscope.execution.live import compile_and_sign
    from feeds import venues
    from feeds.wire import instructions as I

    rates: dict[str, list[float]] = {"without": [], "with": []}
    tx_rates: dict[str, list[float]] = {"without": [], "with": []}
    runs: dict[str, tuple[int, int, int]] = {}
    for name, folder in _ways(programs, reps):
        w, chain, _ = _world(folder)
        kp = Keypair()
        me = str(kp.pubkey())
        chain.airdrop([me, 10**12])
        pools = [
            next(
                p
                for p in w.pools
                if p.kind == kind
                and I.TOKEN_2022 not in (w.token_programs[p.mint_a], w.token_programs[p.mint_b])
            )
            for kind in kinds
        ]
        owners = {m: w.token_programs[m] for p in pools for m in (p.mint_a, p.mint_b)}
        atas = {m: chain.fund([me, m, 10**15])["ata"] for m in owners}
        n = 0
        t = time.perf_counter()
        landed = 0
        for _ in range(slots):
            bh = chain.latest_blockhash()[0]
            for k in range(txs):
                n += 1
                a_to_b = k % 2 == 0
                ixs = [I.set_compute_unit_limit(800_000), I.set_compute_unit_price(n)]
                for pool in pools:
                    venue = venues.by_kind(pool.kind)
                    mint_in, mint_out = (
                        (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
                    )
                    acc = w.accounts[pool.address]
                    rec = venue.decode_pool(w.eng, acc.data, acc.owner)
                    leg = venues.Leg(
                        pool.address,
                        rec,
                        me,
                        mint_in,
                        mint_out,
                        atas[mint_in],
                        atas[mint_out],
                        10**5 + n,
                        0,
                        owners,
                    )
                    ixs.append(venue.swap_instruction(leg))
                tx = compile_and_sign(kp, kp.pubkey(), ixs, bh, [])
                # (its preflight at the newest bank: a node's default, finalized, knows no
                # blockhash newer than its root)
                cfg = {"encoding": "base64", "preflightCommitment": "processed"}
                chain.send([base64.b64encode(bytes(tx)).decode(), cfg])
            landed += len(w.step().landed)
        took = time.perf_counter() - t
        rates[name].append(slots / took)
        tx_rates[name].append(landed / took)
        st = chain.stats
        runs[name] = (st.by_bank, st.by_python, st.mixed)
    return {
        name: {
            "slots_s": statistics.median(rates[name]),
            "txs_s": statistics.median(tx_rates[name]),
            "by_bank": runs[name][0],
            "by_python": runs[name][1],
            "mixed": runs[name][2],
        }
        for name in ("without", "with")
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.sim_bank", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--programs",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "programs"),
        metavar="DIR",
    )
    p.add_argument("--slots", type=int, default=100)
    p.add_argument("--txs", type=int, default=10, help="swap transactions sent each slot")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--json", metavar="FILE")
    a = p.parse_args(argv)
    from feeds.sim.bank import ProgramsError, find_programs

    try:
        if not find_programs(a.programs):
            raise ProgramsError(f"{a.programs}: no program binaries")
    except ProgramsError as exc:
        print(f"bench.sim_bank: {exc} (--programs DIR)", file=sys.stderr)
        return 2
    s = start(a.programs, a.reps)
    m = market(a.programs, a.slots, a.reps)
    rows = [
        [
            "start (world + chain)",
            f"{s['without'] * 1e3:.0f} ms",
            f"{s['with'] * 1e3:.0f} ms",
            "",
            "",
            "",
        ],
        ["market alone, slots/s", f"{m['without']:.0f}", f"{m['with']:.0f}", "", "", ""],
    ]
    flows = {}
    for kinds in (("whirlpool",), ("amm_v4",), ("whirlpool", "amm_v4")):
        what = "+".join(kinds)
        f = flows[what] = flow(a.programs, kinds, a.slots, a.txs, a.reps)
        wo, wi = f["without"], f["with"]
        rows.append(
            [
                f"{a.txs} {what} txs a slot, slots/s",
                f"{wo['slots_s']:.0f}",
                f"{wi['slots_s']:.0f}",
                "",
                "",
                "",
            ]
        )
        rows.append(
            [
                f"{a.txs} {what} txs a slot, tx/s",
                f"{wo['txs_s']:.0f}",
                f"{wi['txs_s']:.0f}",
                f"{wi['by_bank']}",
                f"{wi['by_python']}",
                f"{wi['mixed']}",
            ]
        )
    head = [
        "simulator",
        "without --programs",
        "with --programs",
        "run by the bank",
        "by the Python programs",
        "by both",
    ]
    print("\n".join(markdown(head, rows)))
    print(
        f"({a.slots} slots, {a.reps} runs each, medians; a transaction sent is simulated "
        "once (preflight) and run once when it lands: both counted in the runs)"
    )
    if a.json:
        Path(a.json).write_text(json.dumps({"start": s, "market": m, "flows": flows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

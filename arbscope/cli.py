"""arbscope command line: `arbscope` (or `python -m arbscope`) opens the dashboard."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = argparse.ArgumentParser(
        prog="arbscope",
        description="Terminal dashboard for Solana DEX arbitrage: a seeded in-process market "
        "for now, its pools in the engine's graph, live cycles and Rust-vs-Python timings. "
        "The engine backend is Rust unless ARBSCOPE_ENGINE=python.",
    )
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated market (default 7)")
    p.add_argument(
        "--updates",
        type=int,
        default=10,
        metavar="N",
        help="pool updates per 200 ms tick (default 10)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the dashboard until the user quits; the exit status."""
    args = parser().parse_args(argv)
    if args.updates < 1:
        parser().error("--updates must be at least 1")
    from tui.app import ArbscopeApp

    from .market import SimMarket

    ArbscopeApp(SimMarket(seed=args.seed, updates_per_tick=args.updates)).run()
    return 0

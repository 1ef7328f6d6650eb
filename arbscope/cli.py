"""arbscope command line: `arbscope` (or `python -m arbscope`) opens the dashboard."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="arbscope",
        description="Terminal dashboard for Solana DEX arbitrage (simulated market for now).",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated market")
    args = parser.parse_args(argv)
    from tui.app import ArbscopeApp

    ArbscopeApp(seed=args.seed).run()
    return 0

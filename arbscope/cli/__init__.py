"""arbscope command line.

- ``arbscope`` / ``arbscope run``: the dashboard. With no ``--ws`` it starts the embedded
  simulator (3 endpoints on 127.0.0.1) and watches every pool it serves; with ``--ws``
  (repeatable, paired with ``--rpc`` in order) it watches the pools of ``--pools FILE``
  on those endpoints, the simulator's or real ones.
- ``arbscope sim``: the simulator alone; prints its URLs and serves until interrupted.
  ``arbscope sim --export DIR`` writes its market for a real node instead, and ``arbscope
  node --market DIR`` starts Agave's ``solana-test-validator`` on it (a rehearsal).
- ``arbscope demo``: the seeded in-process market of the first screen (no sockets).
- ``arbscope run --headless --duration S``: a session without the screen; prints its id
  and digest.
- ``arbscope sessions [prune]``, ``arbscope replay SESSION``, ``arbscope export SESSION``:
  the journal (every session is recorded unless ``--no-record``).
- ``arbscope replay SESSION --headless --policy FILE``, ``arbscope sweep SESSION --set
  KEY=V1,V2``: what-if replays of a recording under other policies (``arbscope.whatif``).
- ``arbscope keygen FILE``: a new keypair file (0600) for trials on the simulator.
- ``arbscope pools discover --mint SOL --mint USDC [...]``: every pool of the supported
  venues among those mints on a node that serves ``getProgramAccounts``, ranked by
  liquidity, written as a pools file.
- ``arbscope programs dump --rpc URL --out DIR``: today's binaries of the programs arbscope
  trades, as ``solana program dump`` reads them (``arbscope.programs``); ``arbscope sim
  --programs DIR`` (and ``run --programs DIR``) runs the simulator's transactions with them.

Live trading (``m`` on screen) needs ``--keypair FILE`` (or ``$ARBSCOPE_KEYPAIR``), an RPC
to send with (``--send-rpc`` / ``$ARBSCOPE_SEND_RPC``, default the first ``--rpc``), and
caps (``--max-trade``, ``--max-day``); on the embedded simulator also ``--sim-accept-tx``.

The engine backend is Rust unless ARBSCOPE_ENGINE=python.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from .build import build_session, grpc_token, pubsub_transport
from .common import fail
from .dashboard import run
from .journal import export, replay, sessions, sweep
from .options import fleet_settings, misplaced_flags, parser, resolve_config
from .simulator import node, sim
from .tools import discover, doctor, init, keygen, programs_dump

COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    "sim": sim,
    "node": node,
    "sessions": sessions,
    "sweep": sweep,
    "export": export,
    "doctor": doctor,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen command; the exit status."""
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    stray = misplaced_flags(argv, args.command)
    if stray:  # argparse took them for the top level; the command would never read them
        what = "a flag of run" if len(stray) == 1 else "flags of run"
        return fail(
            f"{', '.join(stray)}: {what}, given before `{args.command}`, which does not "
            f"take it; put each flag after the command it belongs to "
            f"(arbscope {args.command} --help)"
        )
    problem = _engine_problem()
    if problem:
        return fail(problem)
    command = COMMANDS.get(args.command)
    if command is not None:  # the commands that take their arguments as they are
        return command(args)
    if args.command == "collect":
        args.no_record = True  # the stream is its record
        args.headless = True
        return run(args)
    if args.command == "replay":
        if not args.headless:  # the screen owns the terminal: log lines go to the file
            from .. import logs

            logs.setup()
        return replay(args)
    if args.command == "keygen":
        return keygen(args.path)
    if args.command == "init":
        return init(args.path, args.force)
    if args.command == "pools":
        if args.pools_command != "discover":
            return fail("pools: give a subcommand (arbscope pools discover --help)")
        return discover(args)
    if args.command == "programs":
        if args.programs_command != "dump":
            return fail("programs: give a subcommand (arbscope programs dump --help)")
        return programs_dump(args)
    if args.command == "demo":
        if args.updates < 1:
            return fail("--updates must be at least 1")
        from .. import logs

        logs.setup()
        from tui.app import ArbscopeApp

        from ..demo import SimMarket

        ArbscopeApp(
            SimMarket(seed=args.seed, updates_per_tick=args.updates), theme=args.theme
        ).run()
        return 0
    return run(args)


def _engine_problem() -> str:
    """Why ``ARBSCOPE_ENGINE`` cannot be honoured ("" when it can): an unknown value (a
    typo must not quietly run the slow twin), or ``rust`` forced without the extension."""
    import engine_rs

    try:
        wanted = engine_rs.requested()
    except ValueError as exc:
        return str(exc)
    if wanted == "rust":
        try:
            engine_rs.load("rust")
        except ImportError as exc:
            return (
                f"ARBSCOPE_ENGINE=rust but the Rust extension does not load ({exc}); "
                "build it with `make`"
            )
    return ""


__all__ = [
    "build_session",
    "fleet_settings",
    "grpc_token",
    "main",
    "parser",
    "pubsub_transport",
    "resolve_config",
]

"""``arbscope sim``: the simulator alone, with the faults asked for."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .common import fail


def faulty_profiles(profiles: list[Any], faults: Sequence[str]) -> list[Any]:
    """``profiles`` with each ``N:KEY=VALUE[,KEY=VALUE]`` of ``faults`` applied to
    endpoint N; ValueError naming what is wrong."""
    import dataclasses

    out = list(profiles)
    for spec in faults:
        head, _, body = spec.partition(":")
        if not head.isdigit() or not body:
            raise ValueError(f"{spec!r}: expected N:KEY=VALUE[,KEY=VALUE] (N an endpoint, 0-based)")
        n = int(head)
        if n >= len(out):
            raise ValueError(f"{spec!r}: there are {len(out)} endpoints (0..{len(out) - 1})")
        fields = {f.name: f for f in dataclasses.fields(out[n])}
        changes: dict[str, Any] = {}
        for item in body.split(","):
            key, eq, text = item.partition("=")
            if not eq or key not in fields or key == "name":
                known = ", ".join(k for k in fields if k != "name")
                raise ValueError(f"{spec!r}: {key!r} is not one of {known}")
            old = getattr(out[n], key)
            try:
                if isinstance(old, bool):
                    if text.lower() not in ("true", "false", "1", "0"):
                        raise ValueError(text)
                    changes[key] = text.lower() in ("true", "1")
                elif isinstance(old, float):
                    changes[key] = float(text)
                elif isinstance(old, str):
                    changes[key] = text
                else:  # int, or None for an optional count
                    changes[key] = None if text.lower() == "none" else int(text)
            except ValueError:
                kind = "whole number (or none)" if old is None else type(old).__name__
                raise ValueError(f"{spec!r}: {key}={text!r} is not a {kind}") from None
        try:
            out[n] = dataclasses.replace(out[n], **changes)
        except ValueError as exc:  # a value the profile refuses (an unknown answer style)
            raise ValueError(f"{spec!r}: {exc}") from None
    return out


def sim(args: argparse.Namespace) -> int:
    from feeds.sim.competition import PRESETS
    from feeds.sim.server import SimServer, default_profiles
    from feeds.sim.world import WorldConfig

    if args.endpoints < 1:
        return fail("--endpoints must be at least 1")
    if args.fund and not args.accept_tx:
        return fail("--fund needs --accept-tx")
    if args.slot_ms <= 0:
        return fail("--slot-ms must be positive")
    from feeds.sim.competition import Rivals

    try:
        Rivals(
            args.rivals, args.competitors, args.rival_reaction, args.rival_tip, args.rival_gap_bps
        )
    except ValueError as exc:
        return fail(f"--rivals: {exc}")
    last = args.port + args.endpoints - 1  # the endpoints take consecutive ports
    if not 0 <= args.port <= 65_535:
        return fail(f"--port {args.port}: ports are 1..65535 (0, the default, picks free ones)")
    if last > 65_535:
        return fail(
            f"--port {args.port}: the {args.endpoints} endpoints would take "
            f"ports {args.port}..{last}, past 65535 (0, the default, picks free "
            "ones)"
        )
    from feeds.wire.universe import address_problem

    for pubkey in args.fund:
        why = address_problem(pubkey)
        if why:
            return fail(f"--fund {pubkey[:60]!r}: not an address ({why})")

    try:
        profiles = faulty_profiles(default_profiles(args.endpoints), args.fault)
    except ValueError as exc:
        return fail(f"--fault {exc}")

    if args.tls_key and not args.tls_cert:
        return fail("--tls-key needs --tls-cert")
    tls = None
    if args.tls_cert:
        from feeds.sim.server import server_context

        try:
            tls = server_context(args.tls_cert, args.tls_key)
        except ValueError as exc:
            return fail(f"--tls-cert: {exc}")

    if args.export:
        return export_market(args)
    if args.programs:
        from feeds.sim.bank import ProgramsError, find_programs

        try:
            if not find_programs(args.programs):
                raise ProgramsError(
                    f"{args.programs}: no program binaries found (*.so named by program id)"
                )
        except ProgramsError as exc:
            return fail(f"--programs {exc}")

    async def serve() -> None:
        server = SimServer(
            (WorldConfig.mainnet_like if args.mainnet_like else WorldConfig)(
                seed=args.seed,
                competitors=len(PRESETS[args.rivals])
                if args.competitors is None
                else args.competitors,
                rivals=args.rivals,
                rival_reaction=args.rival_reaction,
                rival_tip=None if args.rival_tip is None else float(args.rival_tip),
                rival_gap_bps=args.rival_gap_bps,
                programs=args.programs or "",
                prop_amms=args.prop_amms,
            ),
            profiles,
            args.host,
            args.port,
            slot_seconds=args.slot_ms / 1000.0,
            accept_transactions=args.accept_tx,
            tls=tls,
            grpc=args.grpc,
        )
        try:
            infos = await server.start()
        except OSError as exc:
            raise SystemExit(
                fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
            ) from None
        if args.pools_out:
            from feeds.wire.universe import Universe, dump_universe

            w = server.world
            try:
                Path(args.pools_out).write_text(
                    dump_universe(Universe(w.universe(), list(w.bases))), encoding="utf-8"
                )
            except OSError as exc:
                await server.stop()
                raise SystemExit(fail(f"--pools-out {args.pools_out}: {exc.strerror}")) from None
        bank = server.chain.bank
        for line in bank.describe() if bank is not None else ():  # stdout carries the URLs
            print(f"arbscope sim: {line}", file=sys.stderr, flush=True)
        rivals = server.world.rivals()
        print(f"arbscope sim: rivals {rivals.describe()}", file=sys.stderr, flush=True)
        for program, amm in server.world.prop_amms.items():  # for a propamm.programs_file
            print(f'arbscope sim: prop AMM "{program}" = "{amm.name}"', file=sys.stderr, flush=True)
        for i in infos:
            print(i.ws_url, flush=True)
            print(i.http_url, flush=True)
            if i.grpc_url:
                print(i.grpc_url, flush=True)
        for pubkey in args.fund:
            try:
                server.chain.airdrop([pubkey, 10 * 10**9])
                for base in server.world.bases:
                    server.chain.fund([pubkey, base, 10**12])
            except Exception as exc:  # a bad pubkey: say so, keep serving
                print(f"arbscope: --fund {pubkey[:60]}: {exc}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()
        if server.world.competition is not None:
            tally = server.world.competition.tally()
            print(f"arbscope sim: rivals {tally}", file=sys.stderr, flush=True)
        if bank is not None:  # the last line: who ran the transactions
            st = server.chain.stats
            print(f"arbscope sim: {st.bank_split()}", file=sys.stderr, flush=True)

    asyncio.run(serve())
    return 0


def export_market(args: argparse.Namespace) -> int:
    """``arbscope sim --export DIR``: the market written for a real node."""
    from feeds.sim.bank import ProgramsError
    from feeds.sim.export import export
    from feeds.sim.world import WorldConfig

    programs = args.programs or str(Path(__file__).resolve().parents[3] / "shared" / "programs")
    try:
        market = export(
            (WorldConfig.mainnet_like if args.mainnet_like else WorldConfig)(seed=args.seed),
            args.export,
            programs,
        )
    except ProgramsError as exc:
        return fail(f"--programs {exc}")
    except OSError as exc:
        return fail(f"--export {args.export}: {exc.strerror or exc}")
    print(
        f"arbscope sim: {market.accounts} accounts, {len(market.pools)} pools, "
        f"{len(market.programs)} programs written to {args.export}",
        file=sys.stderr,
    )
    for pool, why in market.left_out.items():
        print(f"arbscope sim: left out {pool}: {why}", file=sys.stderr)
    for venue, why in market.live_refused.items():
        print(f"arbscope sim: {venue}: {why}", file=sys.stderr)
    print(Path(args.export) / "pools.toml")
    return 0


def node(args: argparse.Namespace) -> int:
    """``arbscope node --market DIR [--drive]``: a real validator on an exported market;
    prints its http://, ws:// (and grpc://) URLs and serves until Ctrl-C, the market
    driver trading it with ``--drive``. ``arbscope node drive --rpc URL --market DIR``:
    the driver alone, against any node holding the market."""
    from feeds.sim.export import Market
    from feeds.sim.validator import NodeError, Validator, find_validator

    if getattr(args, "node_command", None) == "drive":
        return drive(args, args.rpc)
    if not args.market:
        return fail("node: give --market DIR (a market arbscope sim --export wrote)")
    try:
        Market.read(args.market)
    except ValueError as exc:
        return fail(f"--market {exc}")
    binary = find_validator(args.validator)
    if binary is None:
        return fail(
            "no solana-test-validator: give --validator FILE or $ARBSCOPE_VALIDATOR "
            "(Agave's, e.g. cargo install agave-validator --bin solana-test-validator)"
        )
    v = Validator(
        binary,
        Path(args.market),
        grpc=args.grpc,
        workdir=Path(args.ledger) if args.ledger else None,
    )
    try:
        info = v.start()
    except NodeError as exc:
        return fail(str(exc))
    print(info.rpc_url, flush=True)
    print(info.ws_url, flush=True)
    if info.grpc_url:
        print(info.grpc_url.replace("http://", "grpc://"), flush=True)
    print(f"arbscope node: validator pid {info.pid}, log {info.log}", file=sys.stderr, flush=True)
    try:
        if args.drive:
            return drive(args, info.rpc_url, alive=v.alive)
        stop = False

        def on_signal(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        import time

        while not stop and v.alive():
            time.sleep(0.5)
    finally:
        v.stop()
    return 0


def drive(args: argparse.Namespace, rpc: str, alive: Any = None) -> int:
    """The market driver on ``rpc`` until Ctrl-C (or ``--duration``): its tally on
    stderr every 10 s and when it stops (``--stats FILE``: as JSON too). ``alive``: the
    validator it drives (the driver stops when it exits)."""
    from feeds.redact import redact
    from feeds.sim.driver import Driver, DriverConfig

    if args.rate is not None and args.rate < 0:
        return fail(f"--rate: not negative, not {args.rate:g}")
    if args.rivals is not None and args.rivals < 0:
        return fail(f"--rivals: not negative, not {args.rivals}")
    config = DriverConfig()
    if args.rate is not None:
        config = dataclasses.replace(config, rate=args.rate)
    if args.rivals is not None:
        config = dataclasses.replace(config, rivals=args.rivals)
    try:
        driver = Driver(rpc, args.market, config)
    except ValueError as exc:
        return fail(f"--market {exc}")
    print(
        f"arbscope node: driving {len(driver.pools)} pools on {redact(rpc)} "
        f"({config.rate:g} swaps/s, {len(driver.rivals)} rivals)",
        file=sys.stderr,
        flush=True,
    )

    def report(tally: Any) -> None:
        print(f"arbscope node: {tally.line()}", file=sys.stderr, flush=True)

    async def go() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, driver.stop.set)

        async def watch() -> None:
            while alive is not None and not driver.stop.is_set():
                if not alive():
                    print("arbscope node: the validator exited", file=sys.stderr, flush=True)
                    driver.stop.set()
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(watch())
        try:
            await driver.run(args.duration, args.stats, report)
        finally:
            watcher.cancel()

    asyncio.run(go())
    report(driver.tally)
    return 0

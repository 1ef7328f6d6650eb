"""The other commands: ``init``, ``doctor``, ``pools discover``, ``programs dump``, ``keygen``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from .common import fail


def init(path: str | None, force: bool) -> int:
    """Write the commented configuration (0600: it may come to hold RPC URLs with keys)."""
    from pathlib import Path

    from ..config import default_path, template

    p = Path(path).expanduser() if path else default_path()
    if p.exists() and not force:
        return fail(f"{p} exists; --force overwrites it")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(template())
    except OSError as exc:
        return fail(f"cannot write {p}: {exc.strerror}")
    print(f"wrote {p}: every key at its default; `arbscope doctor --config {p}` checks it")
    return 0


def doctor(args: argparse.Namespace) -> int:
    """``arbscope doctor``: what run would use (the configuration, with run's flags given
    before or after the command: ``arbscope --ws URL doctor`` checks that endpoint),
    checked one line each."""
    from ..doctor import run
    from .options import apply_flags

    checks = asyncio.run(
        run(
            getattr(args, "config", None),
            timeout_s=args.timeout,
            flags=lambda cfg: apply_flags(cfg, args),
        )
    )
    for c in checks:
        print(c.line())
    bad = [c for c in checks if c.ok is False]
    print(
        f"{len(bad)} problem{'s' if len(bad) != 1 else ''} found"
        if bad
        else "everything checks out"
    )
    return 1 if bad else 0


def discover(args: argparse.Namespace) -> int:
    """``arbscope pools discover``: find, rank, write; every failure one clear line."""
    from feeds.clients.rpc import RpcClient
    from feeds.clients.tls import TlsSetupError
    from feeds.discover import (
        VENUE_NAMES,
        DiscoveryError,
        amount_text,
        discover,
        fee_text,
        render,
    )
    from feeds.redact import redact
    from feeds.venues import KINDS
    from feeds.wire.tokens import resolve_mint
    from feeds.wire.universe import address_problem

    mints = []
    for text in args.mint:
        try:
            mint = resolve_mint(text)
        except ValueError as exc:
            return fail(f"--mint: {exc}")
        why = address_problem(mint)
        if why:
            return fail(f"--mint {text!r} is not a mint address ({why})")
        mints.append(mint)
    if len(set(mints)) < 2:
        return fail("pools discover: give at least two different --mint (a pool trades a pair)")
    for kind in args.venue or ():
        if kind not in KINDS:
            return fail(f"--venue {kind!r} is not one of {', '.join(KINDS)}")
    try:
        url, ca_file = node_of(args, "pools discover", ": a node that serves getProgramAccounts")
    except ValueError as exc:
        return fail(str(exc))
    out = Path(args.out)
    if out.exists() and not args.force:
        return fail(f"{out} exists (--force to overwrite)")
    shown = redact(url)

    async def go() -> Any:
        async with RpcClient(
            url, timeout_s=args.timeout, max_answer_bytes=16 << 20, ca_file=ca_file
        ) as rpc:
            return await discover(rpc, mints, args.venue, args.min_liquidity)

    try:
        found = asyncio.run(go())
    except (DiscoveryError, TlsSetupError) as exc:
        return fail(str(exc))
    for line in found.unreadable:
        print(f"skipped {line}", file=sys.stderr)
    if not found.pools:
        return fail(
            f"no pool of {', '.join(args.venue or KINDS)} among those mints on "
            f"{shown}" + (f" ({found.dropped} under --min-liquidity)" if found.dropped else "")
        )
    try:
        out.write_text(render(found, shown), encoding="utf-8")
    except OSError as exc:
        return fail(f"{out}: {exc.strerror}")
    for p in found.pools:
        liq = "?" if p.liquidity is None else amount_text(p.liquidity, found.unit)
        print(
            f"{p.pair(found.book):<20} {VENUE_NAMES[p.kind]:<16} "
            f"fee {fee_text(p.fee):<8} {liq:>12}  {p.address}"
        )
    extra = f"; {found.dropped} under --min-liquidity left out" if found.dropped else ""
    print(f"wrote {len(found.pools)} pools to {out} ({found.requests} requests to {shown}{extra})")
    return 0


def node_of(args: argparse.Namespace, command: str, what: str = "") -> tuple[str, str | None]:
    """The node a tool reads (``options.add_node_access``'s flags): ``--rpc``, else the
    configuration's first ``feeds.rpc``, and its CA, ``--ca-file`` else ``feeds.ca_file``;
    ValueError: why not, one line (``command`` and ``what`` the node is, in it)."""
    from ..config import ConfigError, load

    url, ca_file = args.rpc, args.ca_file
    if url is None or ca_file is None:
        try:
            cfg = load(args.config)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        ca_file = ca_file or cfg["feeds.ca_file"] or None
        if url is None:
            if not cfg["feeds.rpc"]:
                raise ValueError(
                    f"{command}: give --rpc URL (or feeds.rpc in the configuration){what}; "
                    "`arbscope sim` prints a simulator's"
                )
            url = cfg["feeds.rpc"][0]
    return str(url), ca_file


def programs_dump(args: argparse.Namespace) -> int:
    """``arbscope programs dump`` (:mod:`arbscope.programs`): the node from ``--rpc`` or
    the configuration; every failure one clear line."""
    from ..programs import dump

    try:
        url, ca_file = node_of(args, "programs dump")
    except ValueError as exc:
        return fail(str(exc))
    if not args.timeout > 0:
        return fail("--timeout must be positive")
    return asyncio.run(dump(url, Path(args.out), args.program, args.timeout, ca_file))


def keygen(path: str) -> int:
    from ..execution.keys import KeypairError, write_keypair

    try:
        w = write_keypair(path)
    except (KeypairError, OSError) as exc:
        return fail(str(exc))
    print(f"wrote {w.path} (mode 0600): wallet {w.pubkey}")
    return 0

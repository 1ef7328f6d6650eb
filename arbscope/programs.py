"""``arbscope programs dump --rpc URL --out DIR``: today's binaries of the programs
arbscope trades, fetched from a node as ``solana program dump`` reads them
(:mod:`feeds.clients.programs`): every venue's program (:data:`feeds.venues.VENUES`), the
token programs, and any ``--program`` more. Each is written as ``DIR/<program_id>.so``
(what ``arbscope sim --programs DIR`` loads, :func:`feeds.sim.bank.find_programs`), with
``DIR/manifest.json``: for each program its id, name, sha256, size, loader, the slot of
its last deployment and its upgrade authority, and the programs that could not be read
and why. Every message names the node by its redacted URL.

Exit status: 0 every program read; 1 some could not be read (the others written, the
reasons said one line each); 2 nothing could be asked (a dead endpoint, a bad argument),
one line.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


def default_programs() -> list[tuple[str, str]]:
    """(program id, name) of what arbscope trades: each venue's program, then the token
    programs its swaps call."""
    from feeds.venues import VENUES
    from feeds.wire.instructions import SPL_TOKEN, TOKEN_2022

    out = [(v.program, v.name) for v in VENUES]
    out += [(SPL_TOKEN, "spl_token"), (TOKEN_2022, "spl_token_2022")]
    return out


def _say(text: str) -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def dump(
    url: str,
    out: Path,
    extra: Sequence[str] = (),
    timeout_s: float = 60.0,
    ca_file: str | None = None,
    say: Callable[[str], None] = _say,
    warn: Callable[[str], None] = _err,
) -> int:
    """Fetch, write, report (see the module doc); the exit status. Problems are said in
    one line each through ``warn``, never raised."""
    from feeds.clients.programs import MAX_PROGRAM_ANSWER, read_programs
    from feeds.clients.rpc import RpcClient, RpcError
    from feeds.clients.tls import TlsSetupError
    from feeds.redact import redact, scrub
    from feeds.wire.universe import address_problem

    shown = redact(url)
    wanted = default_programs()
    for pid in extra:
        why = address_problem(pid)
        if why:
            warn(f"arbscope: --program {pid[:60]!r}: not a program id ({why})")
            return 2
        if pid not in {p for p, _ in wanted}:
            wanted.append((pid, "--program"))
    if out.exists() and not out.is_dir():
        warn(f"arbscope: --out {out}: not a folder")
        return 2
    try:
        async with RpcClient(
            url, timeout_s=timeout_s, max_answer_bytes=MAX_PROGRAM_ANSWER, ca_file=ca_file
        ) as rpc:
            reads = await read_programs(rpc, [p for p, _ in wanted])
    except (RpcError, TlsSetupError) as exc:
        warn(f"arbscope: programs dump: {scrub(str(exc), url)}")
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        warn(f"arbscope: --out {out}: {exc.strerror}")
        return 2
    names = dict(wanted)
    written: list[dict[str, Any]] = []
    unread: list[dict[str, str]] = []
    for r in reads:
        name = names[r.program_id]
        if r.deployed is None:
            unread.append({"program_id": r.program_id, "name": name, "why": r.why})
            warn(f"not read: {name}: {r.why}")
            continue
        d = r.deployed
        path = out / f"{r.program_id}.so"
        try:
            path.write_bytes(d.elf)
        except OSError as exc:
            warn(f"arbscope: {path}: {exc.strerror}")
            return 2
        sha = hashlib.sha256(d.elf).hexdigest()
        written.append(
            {
                "program_id": r.program_id,
                "name": name,
                "file": path.name,
                "sha256": sha,
                "size": len(d.elf),
                "loader": d.loader,
                "programdata": d.programdata or None,
                "deployed_slot": d.slot,
                "authority": d.authority,
                "read_at_slot": r.slot,
            }
        )
        when = "" if d.slot is None else f", deployed at slot {d.slot}"
        who = (
            ", immutable"
            if d.authority is None and d.programdata
            else f", upgrade authority {d.authority}"
            if d.authority
            else ""
        )
        say(f"{path.name} {name} {len(d.elf):,} bytes sha256 {sha}{when}{who}")
    manifest = {"rpc": shown, "programs": written, "not_read": unread}
    try:
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        warn(f"arbscope: {out / MANIFEST}: {exc.strerror}")
        return 2
    say(
        f"wrote {len(written)} of {len(reads)} programs to {out} (manifest {MANIFEST}) from "
        f"{shown}" + (f"; {len(unread)} not read" if unread else "")
    )
    return 1 if unread else 0

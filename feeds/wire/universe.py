"""The pool universe: which pools a session watches, from a TOML file.

```toml
# base tokens: cycles start and end in one of these
base_mints = ["So11111111111111111111111111111111111111112"]

[[pool]]
address = "Czfq3xZZDmsdGdUyrNLtRhGc47cXcZtLG4crryfu44zE"
kind = "whirlpool"          # amm_v4 | cpmm | whirlpool: a venue's kind (feeds.venues)
```

The session fetches each pool's account, derives its vaults (and a Whirlpool's tick
arrays by PDA), and subscribes to all of them. Errors name the file, the entry and the
key; nothing is guessed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import engine_rs
from engine_rs.errors import Base58Error

from ..venues import KINDS


class UniverseError(ValueError):
    """A pool-universe file that cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Universe:
    pools: list[tuple[str, str]]
    base_mints: list[str]


def address_problem(v: object) -> str:
    """Why ``v`` is not a Solana address, or "" when it is one: base58 text that decodes
    to exactly 32 bytes (32 to 44 characters; 44 characters can hold 33 bytes, which no
    key is). The one check for every address the operator gives (pool files, config,
    flags)."""
    if not isinstance(v, str):
        return f"expected text, got {type(v).__name__}"
    if not 32 <= len(v) <= 44:
        return f"{len(v)} characters, not 32 to 44"
    try:
        n = len(engine_rs.backend().b58decode(v))
    except Base58Error as exc:
        return str(exc)
    return "" if n == 32 else f"decodes to {n} bytes, not 32"


def _address(v: Any, where: str) -> str:
    why = address_problem(v)
    if why:
        shown = repr(v) if len(repr(v)) <= 60 else repr(v)[:57] + "..."
        raise UniverseError(f"{where}: {shown} is not an address ({why})")
    return str(v)


def parse_universe(text: str, source: str = "<string>") -> Universe:
    """A universe from TOML ``text`` (``source`` names it in errors)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UniverseError(f"{source}: not TOML ({exc})") from None
    unknown = set(doc) - {"pool", "base_mints"}
    if unknown:
        raise UniverseError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    bases = doc.get("base_mints", [])
    if not isinstance(bases, list):
        raise UniverseError(f"{source}: base_mints must be a list of addresses")
    base_mints = [_address(b, f"{source}: base_mints[{i}]") for i, b in enumerate(bases)]
    pools_doc = doc.get("pool", [])
    if not isinstance(pools_doc, list) or not pools_doc:
        raise UniverseError(f"{source}: no [[pool]] entries")
    pools: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(pools_doc):
        where = f"{source}: pool #{i + 1}"
        extra = set(entry) - {"address", "kind", "name"}
        if extra:
            raise UniverseError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        addr = _address(entry.get("address"), f"{where}.address")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise UniverseError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
        if addr in seen:
            raise UniverseError(f"{where}.address: {addr} is listed twice")
        seen.add(addr)
        pools.append((addr, kind))
    return Universe(pools, base_mints)


def load_universe(path: str | Path) -> Universe:
    """The universe in the TOML file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UniverseError(f"{p}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UniverseError(f"{p}: not UTF-8 text") from None
    return parse_universe(text, str(p))


def dump_universe(u: Universe) -> str:
    """TOML text for ``u`` (what ``parse_universe`` reads back)."""
    lines = ["base_mints = [" + ", ".join(f'"{b}"' for b in u.base_mints) + "]", ""]
    for addr, kind in u.pools:
        lines += ["[[pool]]", f'address = "{addr}"', f'kind = "{kind}"', ""]
    return "\n".join(lines)

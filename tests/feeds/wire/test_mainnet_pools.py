"""The curated ``pools/mainnet.toml``: it loads as a universe, every pool's comment names
a pair of well-known tokens and its venue, and every address the venue lets us check
offline re-derives as a PDA — by the engine and by solders, which must agree:

- Whirlpool: ``["whirlpool", config, mint_a, mint_b, tick_spacing u16 LE]`` (mints in byte
  order, the program's rule) under the Whirlpool program;
- CP-Swap and Raydium CLMM: ``["pool", amm_config, token_0_mint, token_1_mint]``, the
  config itself ``["amm_config", index u16 BE]``, each under its own program;
- AMM v4 made by Initialize2: ``[program, market, "amm_associated_seed"]``; the older
  ones are plain accounts and say "not verifiable offline".

The inputs (pair, tick spacing, config index, market) are read from each pool's comment;
the address is what is checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

import engine_rs
from feeds.venues import by_kind
from feeds.venues.orca_whirlpool import WHIRLPOOLS_CONFIG
from feeds.wire.tokens import BY_SYMBOL, WELL_KNOWN
from feeds.wire.universe import load_universe
from tests.support.paths import ROOT

FILE = ROOT / "pools" / "mainnet.toml"
VENUE = {
    "Orca Whirlpool": "whirlpool",
    "Raydium CP-Swap": "cpmm",
    "Raydium AMM v4": "amm_v4",
    "Raydium CLMM": "clmm",
}
HEAD = re.compile(r"^# (\w+)/(\w+) · ([\w\- ]+?) · (.+)$")


def entries() -> list[dict[str, str]]:
    """Each pool with its comment's facts: pair, venue, the derivation's input, whether
    it says verified."""
    out: list[dict[str, str]] = []
    head: re.Match[str] | None = None
    for line in FILE.read_text(encoding="utf-8").splitlines():
        m = HEAD.match(line)
        if m:
            head = m
        elif line.startswith("address = ") and head is not None:
            out.append(
                {
                    "a": head[1],
                    "b": head[2],
                    "venue": head[3],
                    "rest": head[4],
                    "address": json.loads(line.split("=", 1)[1]),
                }
            )
            head = None
    return out


def pda(seeds: list[bytes], program: str) -> str:
    """The PDA by the engine, checked against solders."""
    ours, _ = engine_rs.backend().find_program_address(seeds, program)
    theirs, _ = Pubkey.find_program_address(seeds, Pubkey.from_string(program))
    assert str(ours) == str(theirs)
    return str(ours)


def key(b58: str) -> bytes:
    return bytes(Pubkey.from_string(b58))


def test_the_file_loads_and_every_pool_has_a_checked_comment() -> None:
    u = load_universe(FILE)
    got = entries()
    assert [(e["address"], VENUE[e["venue"]]) for e in got] == u.pools
    assert {BY_SYMBOL["SOL"].mint, BY_SYMBOL["USDC"].mint} == set(u.base_mints)
    pairs = {frozenset((e["a"], e["b"])) for e in got}
    for pair in (("SOL", "USDC"), ("SOL", "USDT"), ("USDC", "USDT")):
        assert frozenset(pair) in pairs
    for e in got:
        assert e["a"].upper() in BY_SYMBOL and e["b"].upper() in BY_SYMBOL, e
        verified = "verified: PDA" in e["rest"]
        assert verified != ("not verifiable offline" in e["rest"]), e


@pytest.mark.parametrize("e", entries(), ids=lambda e: f"{e['a']}/{e['b']}-{e['venue']}")
def test_every_address_rederives_where_the_venue_allows(e: dict[str, str]) -> None:
    mints = sorted((key(BY_SYMBOL[e["a"].upper()].mint), key(BY_SYMBOL[e["b"].upper()].mint)))
    kind = VENUE[e["venue"]]
    program = by_kind(kind).program
    if kind == "whirlpool":
        ts = int(re.search(r"tick spacing (\d+)", e["rest"])[1])  # type: ignore[index]
        seeds = [b"whirlpool", key(WHIRLPOOLS_CONFIG), *mints, ts.to_bytes(2, "little")]
        assert pda(seeds, program) == e["address"]
    elif kind in ("cpmm", "clmm"):  # the same seeds under each program
        index = int(re.search(r"amm_config index (\d+)", e["rest"])[1])  # type: ignore[index]
        config = pda([b"amm_config", index.to_bytes(2, "big")], program)
        assert pda([b"pool", key(config), *mints], program) == e["address"]
    elif "not verifiable offline" in e["rest"]:
        pytest.skip("an AMM v4 pool older than Initialize2: a plain account")
    else:
        market = re.search(r"market (\w+)", e["rest"])[1]  # type: ignore[index]
        seeds = [key(program), key(market), b"amm_associated_seed"]
        assert pda(seeds, program) == e["address"]


def test_the_whirlpools_config_and_a_known_vector() -> None:
    """The config the derivations use is the spec's mainnet one, and the derivation
    reproduces Orca's own test vector (spec §2.4: SOL / 2b1kV6Dk…, fee tier index 2)."""
    assert WHIRLPOOLS_CONFIG == "2LecshUwdy9xi7meFgHtFJQNSKk4KdTrcpvaB56dP2NQ"
    seeds = [
        b"whirlpool",
        key(WHIRLPOOLS_CONFIG),
        key(BY_SYMBOL["SOL"].mint),
        key("2b1kV6DkPAnxd5ixfnxCpjxmKwqjjaYmCZfHsFu24GXo"),
        (2).to_bytes(2, "little"),
    ]
    assert (
        pda(seeds, by_kind("whirlpool").program) == "JDQ9GDphXV5ENDrAQtRFvT98m3JwsVJJk8BYHoX8uTAg"
    )
    assert len({t.mint for t in WELL_KNOWN}) == len(WELL_KNOWN)


@pytest.mark.fixtures
def test_amm_config_index_0_is_the_real_pools_config(shared_fixtures: Path) -> None:
    """The CP-Swap config of index 0 (the curated pool's) is the AmmConfig account of the
    real mainnet pool in the fixtures, and decodes as index 0."""
    import base64

    doc = json.loads((shared_fixtures / "raydium" / "cpmm_wsol_pump.json").read_text())
    eng = engine_rs.backend()
    acc = doc["accounts"][doc["pool"]]
    pool = eng.raydium_cpmm.decode_pool(base64.b64decode(acc["data"]), acc["owner"])
    program = by_kind("cpmm").program
    assert pda([b"amm_config", (0).to_bytes(2, "big")], program) == pool.amm_config
    cfg = doc["accounts"][pool.amm_config]
    assert eng.raydium_cpmm.decode_config(base64.b64decode(cfg["data"]), cfg["owner"]).index == 0

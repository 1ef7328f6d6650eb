"""The simulated market written for a real node: ``arbscope sim --export DIR``.

A real validator (Agave's ``solana-test-validator``, ``../shared/bin/``) loads accounts
from JSON files into its genesis and program binaries at their ids. This module writes a
seeded world's accounts as those files, with the list of programs to load, so the market
arbscope trades in the simulator stands on a real bank with the real programs
(:mod:`feeds.sim.validator` starts one on it; :mod:`feeds.sim.driver` trades it).

What ``DIR`` holds afterwards:

- ``accounts/<address>.json``: every account of the market, in the format
  ``--account-dir`` reads (``{"pubkey", "account": {"lamports", "data": [b64,
  "base64"], "owner", "executable", "rentEpoch", "space"}}``): pools, vaults, mints and
  their Metaplex metadata, tick / bin arrays, configs, observation and oracle accounts,
  order books and their globals; and the market's own wallets (below);
- ``pools.toml``: the pools, for ``arbscope run --pools``;
- ``market.json``: the world's config (the same seed rebuilds the same world: the
  driver's fair prices and pool list), the programs to load (id, file, sha256; the
  newest build of each in the programs folder), the pools left out and why, the wallets.

**Time.** A validator starts at slot 0 with its clock at the wall's time; the world is
built at slot 0 with ``time0`` the export's time, so what the programs judge by the
clock (a DAMM v2 pool's activation point, a book order's expiry, a DLMM pair's last
update) means the same on the node.

**Left out.** A pool whose program has no binary in the folder (PumpSwap: none is
public) and its accounts; the prop AMMs and the rivals of the simulator (programs and
bots of its own; on a node the driver's rivals trade). Raydium AMM v4's binary predates
``SwapBaseInV2``, the instruction arbscope sends: its pools stay (the driver trades them
with ``SwapBaseIn``, which the binary runs) and ``market.json`` names the venue under
``live_refused`` with the reason.

**Wallets.** Keys derived from the seed and a name (:func:`wallet_keypair`): test keys,
printed nowhere and holding nothing outside the node. ``faucet`` holds a large stock of
every token (tests hand tokens out from it), ``trader-N`` the market's noise traders and
arbitrageurs, ``rival-N`` the rival arbitrage bots. Each is funded with SOL and an
associated token account of every mint of the market. Each rival also has address lookup
tables at genesis (``market.json``'s ``tables``), as every bot on mainnet keeps them:
every account a swap of a pool on the node names (:func:`hop_instruction`, both ways),
the pools' arrays and its own token accounts, active from slot 1.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from solders.instruction import Instruction
from solders.keypair import Keypair

from .. import venues
from ..wire import instructions as I
from ..wire.alt import MAX_ADDRESSES, table_address
from ..wire.mints import METADATA_PROGRAM
from ..wire.universe import Universe, dump_universe
from . import alt as ALT
from .bank import find_programs
from .state import Account, Pool, sim_key
from .world import World, WorldConfig, rent_exempt

SYSVAR_OWNER = "Sysvar1111111111111111111111111111111111111"
ALT_PROGRAM = "AddressLookupTab1e1111111111111111111111111"
# accounts every node's genesis holds already (the wrapped-SOL mint, as mainnet's: supply
# 0), which a file must not replace
NODE_OWN = frozenset(("So11111111111111111111111111111111111111112",))
# owners a node has without a binary from us: the system program and the built-in token,
# associated token and lookup table programs
BUILT_IN = frozenset((I.SYSTEM_PROGRAM, I.SPL_TOKEN, I.TOKEN_2022, I.ATA_PROGRAM, ALT_PROGRAM))
# a venue whose binary cannot run arbscope's own swap instruction: why
LIVE_REFUSED = {
    "raydium_amm_v4": (
        "the only public binary (2025-05) predates SwapBaseInV2 (tag 16), the instruction "
        "arbscope sends: live orders through its pools are refused by the program; the "
        "driver trades them with SwapBaseIn (tag 9), which it runs"
    ),
}
TRADERS = 4  # noise traders and arbitrageurs
RIVALS = 2
WALLET_LAMPORTS = 10_000 * 10**9
HOLDING = 50  # of each token: this many times what the market's pools hold of it
MARKET_FILE = "market.json"
U64_MAX = 2**64 - 1


def wallet_keypair(seed: int, name: str) -> Keypair:
    """The key of the market's wallet ``name`` (``faucet``, ``trader-0``, ``rival-1``):
    from the seed, so the driver and the tests find it again without a file."""
    return Keypair.from_seed(hashlib.sha256(f"arbscope-node:{seed}:{name}".encode()).digest())


@dataclass(frozen=True, slots=True)
class ProgramFile:
    program_id: str
    path: str
    sha256: str


@dataclass(slots=True)
class Market:
    """What ``market.json`` says (see the module doc)."""

    config: dict[str, Any]
    programs: list[ProgramFile]
    pools: list[tuple[str, str]]  # (address, kind) of the pools on the node
    bases: list[str]
    left_out: dict[str, str] = field(default_factory=dict)  # pool -> why
    live_refused: dict[str, str] = field(default_factory=dict)  # venue -> why
    wallets: dict[str, str] = field(default_factory=dict)  # name -> pubkey
    accounts: int = 0
    # wallet name -> the address lookup tables it owns at genesis (the rivals')
    tables: dict[str, list[str]] = field(default_factory=dict)

    def world_config(self) -> WorldConfig:
        return WorldConfig(**self.config)

    def to_json(self) -> str:
        d = asdict(self)
        d["pools"] = [list(p) for p in self.pools]
        return json.dumps(d, indent=1, sort_keys=True)

    @classmethod
    def read(cls, folder: str | Path) -> Market:
        """The market of ``folder`` (``ValueError`` naming what is wrong)."""
        path = Path(folder) / MARKET_FILE
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                config=d["config"],
                programs=[ProgramFile(**p) for p in d["programs"]],
                pools=[(a, k) for a, k in d["pools"]],
                bases=list(d["bases"]),
                left_out=dict(d.get("left_out", {})),
                live_refused=dict(d.get("live_refused", {})),
                wallets=dict(d.get("wallets", {})),
                accounts=int(d.get("accounts", 0)),
                tables={k: list(v) for k, v in d.get("tables", {}).items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path}: not a market written by arbscope sim --export ({exc})"
            ) from None


def node_config(config: WorldConfig, now: int | None = None) -> WorldConfig:
    """``config`` as a market on a node that starts now: slot 0, the clock at ``now``,
    no simulator-only traders (rivals, prop AMMs) and no simulated bank."""
    return replace(
        config,
        first_slot=0,
        time0=int(time.time()) if now is None else now,
        competitors=0,
        prop_amms=False,
        programs="",
    )


def account_file(address: str, acc: Account) -> str:
    """The JSON ``--account-dir`` reads for one account."""
    return f'{{"pubkey": "{address}", "account": {acc.value_json()}}}\n'


def pool_accounts(world: World, pool: Pool) -> set[str]:
    """The accounts the world made for ``pool`` alone: its account, vaults and arrays."""
    return {pool.address, pool.vault_a, pool.vault_b, *pool.tick_arrays}


def hop_instruction(leg: venues.Leg, kind: str) -> Instruction:
    """One hop's swap as the market's wallets send it on a node: the venue's own
    instruction (``feeds.venues``), but Raydium AMM v4's ``SwapBaseIn`` (tag 9: its binary
    predates ``SwapBaseInV2``), the OpenBook market's accounts named by the pool (a
    swap-only pool's program reads none of them)."""
    if kind == "amm_v4":
        from ..venues import raydium_amm_v4 as V4

        market = [sim_key("node-market", part, leg.pool) for part in V4.MARKET_PARTS]
        return V4.swap_base_in_with_market(leg, market)
    return venues.by_kind(kind).swap_instruction(leg)


def world_leg(
    world: World, pool: Pool, owner: str, a_to_b: bool, amount: int, minimum: int
) -> venues.Leg:
    """The hop through ``pool`` of ``owner``'s associated token accounts, the pool
    decoded from the world's bytes now."""
    venue = venues.by_kind(pool.kind)
    acc = world.accounts[pool.address]
    record = venue.decode_pool(world.eng, acc.data, acc.owner)
    mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    programs = {m: world.token_programs[m] for m in (pool.mint_a, pool.mint_b)}
    return venues.Leg.of_atas(
        pool.address, record, owner, (mint_in, mint_out), amount, minimum, programs
    )


def lookup_tables(world: World, pools: list[Pool], owner: str) -> dict[str, Account]:
    """``owner``'s address lookup tables at genesis (by address): every account a swap
    of ``pools`` names but the signer (both ways), their arrays, and ``owner``'s
    associated token account of every mint, 256 to a table, active from slot 1
    (extended at slot 0), ``owner`` their authority."""
    keys: dict[str, None] = {}
    for m in world.mints:
        keys[I.ata_address(owner, m, world.token_programs[m])] = None
    keys.update(
        ALT.swap_keys(
            pools,
            lambda p, a_to_b: hop_instruction(world_leg(world, p, owner, a_to_b, 1, 0), p.kind),
        )
    )
    ordered = list(keys)
    out: dict[str, Account] = {}
    for n, i in enumerate(range(0, len(ordered), MAX_ADDRESSES)):
        table = ALT.Table(U64_MAX, 0, 0, owner, ordered[i : i + MAX_ADDRESSES])
        data = table.encode()
        out[str(table_address(owner, n)[0])] = Account(ALT_PROGRAM, data, rent_exempt(len(data)))
    return out


def _fund(world: World, owner: str, holdings: dict[str, int]) -> dict[str, Account]:
    """SOL and an associated token account of every mint (holding ``holdings``) of
    ``owner``, written as the world writes token accounts."""
    out: dict[str, Account] = {owner: Account(I.SYSTEM_PROGRAM, b"", WALLET_LAMPORTS)}
    for mint, amount in holdings.items():
        program = world.token_programs[mint]
        ata = I.ata_address(owner, mint, program)
        world.vault(ata, mint, owner, amount, immutable_owner=True)
        out[ata] = world.accounts.pop(ata)
    return out


def market_wallets(
    world: World, holdings: dict[str, int], traders: int = TRADERS, rivals: int = RIVALS
) -> tuple[dict[str, str], dict[str, Account]]:
    """The market's wallets (name -> pubkey) and their accounts (SOL and an associated
    token account of every mint), each holding a stock of every mint from ``holdings``
    (what the market's pools hold of it): the faucet the most, the others a tenth. The
    accounts are not left in ``world`` (the caller adds them where it wants them: the
    export's files, a simulator's world playing the node's market)."""
    # at least a whole token of each, at most a share of the mint's supply
    stock = {m: min(10**17, max(10 ** world.decimals[m], HOLDING * n)) for m, n in holdings.items()}
    wallets: dict[str, str] = {}
    extra: dict[str, Account] = {}
    names = ["faucet", *(f"trader-{i}" for i in range(traders))]
    names += [f"rival-{i}" for i in range(rivals)]
    for name in names:
        owner = str(wallet_keypair(world.config.seed, name).pubkey())
        wallets[name] = owner
        each = stock if name == "faucet" else {m: n // 10 for m, n in stock.items()}
        extra.update(_fund(world, owner, each))
    return wallets, extra


def pool_holdings(world: World, pools: list[Pool]) -> dict[str, int]:
    """What ``pools`` hold of each mint of the world (their vaults' amounts)."""
    holdings: dict[str, int] = dict.fromkeys(world.mints, 0)
    for p in pools:
        for mint, vault in ((p.mint_a, p.vault_a), (p.mint_b, p.vault_b)):
            t = world.token_account(vault)
            holdings[mint] += 0 if t is None else t.amount
    return holdings


def export(
    config: WorldConfig,
    out: str | Path,
    programs: str | Path,
    now: int | None = None,
    traders: int = TRADERS,
    rivals: int = RIVALS,
) -> Market:
    """Write the market of ``config`` for a node into ``out`` (see the module doc), with
    the newest build of each program of the folder ``programs``; what it wrote."""
    folder = Path(out)
    accounts_dir = folder / "accounts"
    accounts_dir.mkdir(parents=True, exist_ok=True)
    for old in accounts_dir.glob("*.json"):
        old.unlink()
    cfg = node_config(config, now)
    world = World(cfg)
    found = find_programs(programs)
    loaded = set(found) | BUILT_IN
    kept: list[Pool] = []
    left_out: dict[str, str] = {}
    dropped: set[str] = set()
    for p in world.pools:
        program = world.accounts[p.address].owner
        if program in loaded:
            kept.append(p)
            continue
        left_out[p.address] = f"{p.kind}: no binary of its program {program} in {programs}"
        dropped |= pool_accounts(world, p)
    shared = set().union(*(pool_accounts(world, p) for p in kept)) if kept else set()
    dropped -= shared
    holdings = pool_holdings(world, kept)
    wallets, extra = market_wallets(world, holdings, traders, rivals)
    tables: dict[str, list[str]] = {}
    for name, owner in wallets.items():
        if name.startswith("rival-"):
            made = lookup_tables(world, kept, owner)
            tables[name] = list(made)
            extra.update(made)
    written = 0
    for address, acc in sorted({**world.accounts, **extra}.items()):
        if address in dropped or address in NODE_OWN or acc.owner == SYSVAR_OWNER:
            continue
        if acc.owner not in loaded and acc.owner != METADATA_PROGRAM:
            continue  # a program the node will not have (PumpSwap's fee program ...)
        (accounts_dir / f"{address}.json").write_text(account_file(address, acc))
        written += 1
    files = [
        ProgramFile(pid, str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest())
        for pid, path in sorted(found.items())
        if pid not in BUILT_IN
    ]
    market = Market(
        config=asdict(cfg),
        programs=files,
        pools=[(p.address, p.kind) for p in kept],
        bases=list(world.bases),
        left_out=left_out,
        live_refused={
            v: why
            for v, why in LIVE_REFUSED.items()
            if any(venues.by_kind(p.kind).name == v for p in kept)
        },
        wallets=wallets,
        accounts=written,
        tables=tables,
    )
    (folder / "pools.toml").write_text(
        dump_universe(Universe(list(market.pools), list(world.bases))), encoding="utf-8"
    )
    (folder / MARKET_FILE).write_text(market.to_json(), encoding="utf-8")
    return market

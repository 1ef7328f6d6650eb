"""Prop AMMs in the simulated market: one closed-state market maker per major pair, quoting
around the hidden fair price and updating first, so the public pools lag it as they lag
HumidiFi, SolFi or Tessera V on mainnet.

**Which pairs.** SOL against each USD stablecoin of the market (SOL/USDC, SOL/USDT) that
public pools trade; with none, the pair the most pools trade. Each gets a program of its
own (:attr:`SimPropAmm.program`, an address derived from the seed: no real prop AMM's id,
whose math is not this), a market account the program owns (its quote), two vaults the
market's authority holds (a deep stock of each mint), a maker key that signs its oracle
updates and a taker key that trades against it, funded at genesis.

**Its program** (:func:`run`, run by the chain as any program: ``feeds.sim.chain``):

- ``UpdateQuote`` (tag 0; the price as a ``u64``, raw quote per raw base × 10^12;
  accounts: the maker, signing, and the market, writable): the market's price; no token
  moves, as the real ones' oracle updates.
- ``Swap`` (tag 1; ``amount_in`` u64, ``minimum_out`` u64, ``buy`` u8: 1 pays the quote
  for the base; accounts: the user, signing; the market; the base vault; the quote vault;
  the user's source and destination token accounts, all writable; the market's authority;
  the token program): the market's price less its half spread for a sell, plus it for a
  buy; the token transfers (the user's in, the vault's out, the authority signing) are its
  inner instructions, as a real program's CPIs are.

**Each slot** (:func:`on_slot`, after the fair prices moved and before anyone else trades):
the maker's update when the fair price moved ``UPDATE_BPS`` from its quote (or
``UPDATE_EVERY`` slots passed), then, with a chance of ``SWAP_CHANCE``, a taker's swap of a
random side and size: real signed transactions landed through the chain at once, first in
the slot, so their logs, bodies and token balances are served as any landed transaction's
(``getTransaction``, ``getSignaturesForAddress``, gRPC transaction updates). Their draws
come from a generator of their own: the market's are the same with or without them.
"""

from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.transaction import VersionedTransaction

from ..wire import instructions as I
from ..wire.tokens import BY_SYMBOL, pair_order
from .state import Account, InnerIx, sim_key

if TYPE_CHECKING:
    from .world import World

TAG = b"SIMPROP1"  # the market account's first bytes
PRICE_SCALE = 10**12  # a quote's price: raw quote per raw base, times this
HALF_SPREAD_BPS = 1.5  # the maker's half spread about its quote
UPDATE_BPS = 1.0  # the maker updates once the fair price moved this far from its quote
UPDATE_EVERY = 4  # ... or this many slots after its last update
SWAP_CHANCE = 0.6  # a taker's swap per slot
STOCK_USD = 50_000_000  # each vault's stock, in dollars of its mint
TAKER_LAMPORTS = 10**12
UPDATE_UNITS = 1_000
SWAP_UNITS = 6_000
UPDATE_CU_PRICE = 1_000_000  # the maker pays to be first in its slot
SWAP_CU_PRICE = 10_000
ERR_STALE_SIGNER = 0x10  # UpdateQuote not signed by the market's maker
ERR_SLIPPAGE = 0x11  # less out than the minimum
ERR_ACCOUNTS = 0x12  # accounts that are not the market's
ERR_DATA = 0x13  # instruction data of no layout


class PropError(Exception):
    """An instruction the program refuses: ``code`` its custom error."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__(why)
        self.code = code


@dataclass
class SimPropAmm:
    """One simulated prop AMM (see the module doc)."""

    name: str
    program: str
    market: str
    authority: str
    base: str
    quote: str
    vault_base: str
    vault_quote: str
    maker: Keypair
    taker: Keypair
    taker_base: str  # the taker's token accounts
    taker_quote: str
    price_e12: int = 0  # the market's quote (raw quote per raw base × PRICE_SCALE)
    updated: int = 0  # the slot of its last update
    stats: dict[str, int] = field(default_factory=lambda: {"updates": 0, "swaps": 0})

    def data(self) -> bytes:
        """The market account's bytes: tag, mints, vaults, maker, price, half spread (bps
        × 100), slot of the last update."""
        return (
            TAG
            + b"".join(
                bytes(I.pubkey(k))
                for k in (self.base, self.quote, self.vault_base, self.vault_quote)
            )
            + bytes(self.maker.pubkey())
            + struct.pack("<QHQ", self.price_e12, int(HALF_SPREAD_BPS * 100), self.updated)
        )


def _keypair(seed: int, name: str) -> Keypair:
    return Keypair.from_seed(
        hashlib.sha256(f"arbscope-sim-propamm:{seed}:{name}".encode()).digest()
    )


def pairs(world: World) -> list[tuple[str, str]]:
    """The pairs that get a prop AMM: SOL against each USD stablecoin public pools trade
    (``(base, quote)``), else the pair the most pools trade."""
    traded: dict[tuple[str, str], int] = {}
    for p in world.pools:
        key = pair_order(p.mint_a, p.mint_b)
        traded[key] = traded.get(key, 0) + 1
    sol = BY_SYMBOL["SOL"].mint
    stables = [t.mint for t in world.tokens if t.usd_stable]
    out = [pair_order(sol, s) for s in stables if pair_order(sol, s) in traded]
    if not out and traded:
        out = [max(sorted(traded), key=lambda k: traded[k])]
    return out


def setup(world: World) -> list[SimPropAmm]:
    """The prop AMMs of ``world`` at genesis (accounts written into it)."""
    seed = world.config.seed
    symbol = {t.mint: t.symbol for t in world.tokens}
    out = []
    for base, quote in pairs(world):
        label = f"{symbol.get(base, base[:4])}/{symbol.get(quote, quote[:4])}"
        name = f"SimProp {label}"
        program = sim_key("propamm", seed, label, "program")
        market = sim_key("propamm", seed, label, "market")
        authority = sim_key("propamm", seed, label, "authority")
        maker, taker = _keypair(seed, f"{label}:maker"), _keypair(seed, f"{label}:taker")
        vb, vq = (
            sim_key("propamm", seed, label, "vault", base),
            sim_key("propamm", seed, label, "vault", quote),
        )
        tb = I.ata_address(str(taker.pubkey()), base, world.token_programs.get(base, I.SPL_TOKEN))
        tq = I.ata_address(str(taker.pubkey()), quote, world.token_programs.get(quote, I.SPL_TOKEN))
        amm = SimPropAmm(
            name, program, market, authority, base, quote, vb, vq, maker, taker, tb, tq
        )
        amm.price_e12 = fair_e12(world, base, quote)
        amm.updated = world.slot

        world.vault(vb, base, authority, _stock(world, base, quote))
        world.vault(vq, quote, authority, _stock(world, quote, quote))
        world.put(market, program, amm.data())
        for kp in (maker, taker):
            world.accounts[str(kp.pubkey())] = Account(I.SYSTEM_PROGRAM, b"", TAKER_LAMPORTS)
        world.vault(
            tb, base, str(taker.pubkey()), _stock(world, base, quote) // 100, immutable_owner=True
        )
        world.vault(
            tq, quote, str(taker.pubkey()), _stock(world, quote, quote) // 100, immutable_owner=True
        )
        out.append(amm)
    return out


def fair_e12(world: World, base: str, quote: str) -> int:
    """The hidden fair price of ``base`` in ``quote`` (the world's fair prices are per raw
    unit: raw quote per raw base) × ``PRICE_SCALE``."""
    return max(1, int(world.fair[base] / world.fair[quote] * PRICE_SCALE))


def _stock(world: World, mint: str, quote: str) -> int:
    """``STOCK_USD`` worth of ``mint`` (priced in ``quote``, a stablecoin) in base units."""
    raw_quote = STOCK_USD * 10 ** world.decimals[quote]
    return min(2**62, int(raw_quote / max(world.fair[mint] / world.fair[quote], 1e-30)))


# ---------------------------------------------------------------- the program
def run(
    world: World, amm: SimPropAmm, data: bytes, accounts: list[str], signers: Any
) -> tuple[int, list[str], list[InnerIx]]:
    """Run one instruction of ``amm``'s program: (compute units, log lines, inner
    instructions); :class:`PropError` when it refuses (nothing moved)."""
    if data[:1] == b"\x00" and len(data) == 9:
        if len(accounts) < 2 or accounts[1] != amm.market:
            raise PropError(ERR_ACCOUNTS, "not this program's market")
        if accounts[0] != str(amm.maker.pubkey()) or not signers(accounts[0]):
            raise PropError(ERR_STALE_SIGNER, "the quote is updated by its maker only")
        (amm.price_e12,) = struct.unpack_from("<Q", data, 1)
        amm.updated = world.slot
        world.put(amm.market, amm.program, amm.data())
        amm.stats["updates"] += 1
        return UPDATE_UNITS, ["Program log: quote"], []
    if data[:1] == b"\x01" and len(data) == 18:
        amount_in, minimum, buy = struct.unpack_from("<QQB", data, 1)
        want = (amm.market, amm.vault_base, amm.vault_quote)
        if len(accounts) < 8 or tuple(accounts[1:4]) != want or accounts[6] != amm.authority:
            raise PropError(ERR_ACCOUNTS, "not this program's market")
        user, src, dst = accounts[0], accounts[4], accounts[5]
        if not signers(user):
            raise PropError(ERR_ACCOUNTS, "the user must sign")
        out = quote_out(amm, amount_in, bool(buy))
        if out < max(1, minimum):
            raise PropError(ERR_SLIPPAGE, f"slippage: {out} < {minimum}")
        v_in, v_out = (
            (amm.vault_quote, amm.vault_base) if buy else (amm.vault_base, amm.vault_quote)
        )
        m_in, m_out = (amm.quote, amm.base) if buy else (amm.base, amm.quote)
        s, d = world.token_account(src), world.token_account(dst)
        if s is None or d is None or s.mint != m_in or d.mint != m_out or s.owner != user:
            raise PropError(ERR_ACCOUNTS, "the user's token accounts are not of the pair")
        if s.amount < amount_in or world.balance(v_out) < out:
            raise PropError(ERR_SLIPPAGE, "not enough to move")
        world.move_tokens(src, -amount_in)
        world.move_tokens(v_in, amount_in)
        world.move_tokens(v_out, -out)
        world.move_tokens(dst, out)
        calls = [
            InnerIx(
                world.token_programs.get(m_in, I.SPL_TOKEN), (src, v_in, user), _transfer(amount_in)
            ),
            InnerIx(
                world.token_programs.get(m_out, I.SPL_TOKEN),
                (v_out, dst, amm.authority),
                _transfer(out),
            ),
        ]
        amm.stats["swaps"] += 1
        return SWAP_UNITS, [], calls
    raise PropError(ERR_DATA, "invalid instruction data")


def _transfer(amount: int) -> bytes:
    return b"\x03" + amount.to_bytes(8, "little")


def quote_out(amm: SimPropAmm, amount_in: int, buy: bool) -> int:
    """What ``amount_in`` buys at the market's quote: a sell of the base gets the price
    less the half spread, a buy pays the price plus it."""
    px = amm.price_e12 / PRICE_SCALE
    half = HALF_SPREAD_BPS / 1e4
    if buy:
        return int(amount_in / (px * (1 + half)))
    return int(amount_in * px * (1 - half))


# ---------------------------------------------------------------- each slot
def _tx(world: World, payer: Keypair, units: int, price: int, ix: Any) -> VersionedTransaction:
    chain = world.chain
    assert chain is not None
    bh = Hash.from_string(chain.latest_blockhash()[0])
    ixs = [I.set_compute_unit_limit(units), I.set_compute_unit_price(price), ix]
    return VersionedTransaction(Message.new_with_blockhash(ixs, payer.pubkey(), bh), [payer])


def update_ix(amm: SimPropAmm, price_e12: int) -> Any:
    return I.instruction(
        amm.program,
        b"\x00" + struct.pack("<Q", price_e12),
        [
            I.account_meta(str(amm.maker.pubkey()), True, True),
            I.account_meta(amm.market, False, True),
        ],
    )


def swap_ix(amm: SimPropAmm, amount_in: int, minimum: int, buy: bool) -> Any:
    user = str(amm.taker.pubkey())
    src, dst = (amm.taker_quote, amm.taker_base) if buy else (amm.taker_base, amm.taker_quote)
    metas = [
        I.account_meta(user, True, True),
        I.account_meta(amm.market, False, True),
        I.account_meta(amm.vault_base, False, True),
        I.account_meta(amm.vault_quote, False, True),
        I.account_meta(src, False, True),
        I.account_meta(dst, False, True),
        I.account_meta(amm.authority, False, False),
        I.account_meta(I.SPL_TOKEN, False, False),
    ]
    return I.instruction(amm.program, b"\x01" + struct.pack("<QQB", amount_in, minimum, buy), metas)


def on_slot(world: World, amms: list[SimPropAmm], rng: random.Random) -> list[Any]:
    """The prop AMMs' part of a slot (see the module doc): what landed."""
    chain = world.chain
    if chain is None:
        return []
    txs = []
    for amm in amms:
        fair = fair_e12(world, amm.base, amm.quote)
        moved = abs(fair / amm.price_e12 - 1.0) * 1e4
        if moved >= UPDATE_BPS or world.slot - amm.updated >= UPDATE_EVERY:
            txs.append(
                _tx(world, amm.maker, UPDATE_UNITS + 1_000, UPDATE_CU_PRICE, update_ix(amm, fair))
            )
    for amm in amms:
        if rng.random() >= SWAP_CHANCE:
            continue
        buy = rng.random() < 0.5
        units = rng.uniform(0.2, 20.0)  # of the base
        size = int(units * 10 ** world.decimals[amm.base])
        if buy:  # the quote it takes to buy that much
            size = int(size * world.fair[amm.base] / world.fair[amm.quote])
        txs.append(
            _tx(world, amm.taker, SWAP_UNITS + 1_000, SWAP_CU_PRICE, swap_ix(amm, size, 1, buy))
        )
    return chain.land_now(txs, world.slot) if txs else []

"""PumpSwap's simulated program (the simulator's part of :mod:`feeds.venues.pump_amm`;
only the simulator and tests import it): the ``Pool``, ``GlobalConfig`` and ``FeeConfig``
encoders, the program's fee rates and swap arithmetic, ``sell`` / ``buy_exact_quote_in``'s
checks, the market's pools and their ``BuyEvent`` / ``SellEvent`` (:data:`SIM`)."""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine_rs import decoded as D

from ...sim import venue as sv
from ...sim.state import InnerIx, Pool, sim_key
from ...sim.venue import ANCHOR_CONSTRAINT_SEEDS, InstructionFailed, ProgramError
from ...wire.instructions import SPL_TOKEN, Swap, ata_address
from ...wire.writer import Writer
from . import (
    BUYBACK_FEE_RECIPIENTS,
    DISC_GLOBAL_CONFIG,
    DISC_POOL,
    FEE_PROGRAM,
    FEE_RECIPIENTS,
    GLOBAL_CONFIG,
    GLOBAL_CONFIG_LEN,
    IDS,
    POOL_LEN,
    PROGRAM,
    VENUE,
    WSOL,
    ZERO_KEY,
    _b,
    _pda,
    creator_vault_authority,
    decode_pool,
    event_authority,
    fee_config,
    fee_recipient,
    pool_address,
    pool_v2,
    pump_pool_authority,
)

if TYPE_CHECKING:
    from ...sim import synthetic
    from ...sim.world import SwapQuote, World

USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
MAYHEM_SUPPLY = 10**15
DISC_BUY_EVENT = hashlib.sha256(b"event:BuyEvent").digest()[:8]
DISC_SELL_EVENT = hashlib.sha256(b"event:SellEvent").digest()[:8]
SIM_FEES = (20, 5, 5)  # the simulated GlobalConfig: lp, protocol, coin creator bps
# the simulated FeeConfig: docs/fees.png, the tiers of canonical pools by market cap in
# lamports (threshold, lp, protocol, creator bps) up to the 49,120 SOL row (the rows past
# it have half basis points on the picture: left out, the last tier holds from there);
# flat fees for other pools: 25 / 5 / 0 (what real creator-less pools' swaps charged)
SOL = 10**9
SIM_FEE_TIERS = tuple(
    (t * SOL, lp, pr, cr)
    for t, lp, pr, cr in (
        (0, 2, 93, 30),
        (420, 20, 5, 95),
        (1_470, 20, 5, 90),
        (2_460, 20, 5, 85),
        (3_440, 20, 5, 80),
        (4_420, 20, 5, 75),
        (9_820, 20, 5, 70),
        (14_740, 20, 5, 65),
        (19_650, 20, 5, 60),
        (24_560, 20, 5, 55),
        (29_470, 20, 5, 50),
        (34_380, 20, 5, 45),
        (39_300, 20, 5, 40),
        (44_210, 20, 5, 35),
        (49_120, 20, 5, 30),
    )
)
SIM_FLAT_FEES = (25, 5, 0)


def guess_quote(mint_a: str, mint_b: str) -> str:
    """The quote side of a pair as the simulator orients its pools: wrapped SOL when one
    side is, else the greater mint by bytes (live pools say it themselves)."""
    if WSOL in (mint_a, mint_b):
        return WSOL
    return max(mint_a, mint_b, key=_b)


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """PumpSwap ``Pool`` (IDL), in a 300-byte account."""
    w = Writer(POOL_LEN, base, DISC_POOL)
    w.u8(8, r.pool_bump)
    w.u16(9, r.index)
    keys = (
        r.creator,
        r.base_mint,
        r.quote_mint,
        r.lp_mint,
        r.pool_base_token_account,
        r.pool_quote_token_account,
    )
    w.keys(11, keys)
    w.u64(203, r.lp_supply)
    w.key(211, r.coin_creator)
    w.u8(243, int(r.is_mayhem_mode))
    w.u8(244, int(r.is_cashback_coin))
    w.i128(245, r.virtual_quote_reserves)
    return w.done()


def encode_global_config(r: Any) -> bytes:
    """PumpSwap ``GlobalConfig`` (IDL) through ``is_cashback_enabled`` (643 bytes, the
    mainnet account's size); the fields after the creator fee are left zero."""
    w = Writer(GLOBAL_CONFIG_LEN, None, DISC_GLOBAL_CONFIG)
    w.key(8, r.admin)
    w.u64s(40, (r.lp_fee_basis_points, r.protocol_fee_basis_points))
    w.u8(56, r.disable_flags)
    w.keys(57, r.protocol_fee_recipients)
    w.u64(313, r.coin_creator_fee_basis_points)
    return w.done()


def encode_fee_config(r: Any) -> bytes:
    """pump_fees ``FeeConfig`` (IDL): bump, admin, flat fees, the two tier vectors."""
    body = bytes([r.bump]) + _b(r.admin) + struct.pack("<3Q", *r.flat_fees)
    for tiers in (r.fee_tiers, r.stable_fee_tiers):
        body += struct.pack("<I", len(tiers))
        for t, lp, pr, cr in tiers:
            body += t.to_bytes(16, "little") + struct.pack("<3Q", lp, pr, cr)
    return hashlib.sha256(b"account:FeeConfig").digest()[:8] + body


# ------------------------------------------------------------------ simulator: the math
@dataclass(frozen=True, slots=True)
class Split:
    """One swap as the program moves it: what the user pays and gets, the fees, and the
    net change of the two reserves (the protocol and creator fees leave the quote vault)."""

    paid_in: int
    out: int
    lp: int
    protocol: int
    creator: int
    d_base: int
    d_quote: int


def _fee(amount: int, bps: int) -> int:
    return -(-(amount * bps) // 10_000)


def split(
    base: int, quote: int, bps: tuple[int, int, int], sell_side: bool, amount: int
) -> Split | None:
    """The program's arithmetic of one exact-in swap (the SDK's rules; the engine's
    ``pump_amm.swap`` gives the same ``out``, which tests check); None when refused."""
    lp_bps, pr_bps, cr_bps = bps
    if sell_side:
        gross = quote * amount // (base + amount)
        lp, pr, cr = _fee(gross, lp_bps), _fee(gross, pr_bps), _fee(gross, cr_bps)
        out = gross - lp - pr - cr
        if out <= 0:
            return None
        return Split(amount, out, lp, pr, cr, amount, -(gross - lp))
    net = amount * 10_000 // (10_000 + lp_bps + pr_bps + cr_bps)
    if net <= 0:
        return None
    lp, pr, cr = _fee(net, lp_bps), _fee(net, pr_bps), _fee(net, cr_bps)
    if net + lp + pr + cr > amount:
        net -= net + lp + pr + cr - amount
        if net <= 0:
            return None
    out = base * (net - 1) // (quote + net - 1)
    return Split(net + lp + pr + cr, out, lp, pr, cr, -out, net + lp)


def program_fees(
    cfg: Any,
    canonical: bool,
    mayhem: bool,
    quote_mint: str,
    has_creator: bool,
    reserves: tuple[int, int],
    supply: int,
) -> tuple[int, int, int]:
    """The rates the program charges (docs/FEE_PROGRAM_README.md ``computeFeesBps``): a
    canonical pool the tier of its market cap ``quote · supply / base`` (USDC-quoted: the
    stable tiers when there are), another pool the flat fees; no creator fee without a
    coin creator."""
    if canonical:
        cap = reserves[1] * (MAYHEM_SUPPLY if mayhem else supply) // max(reserves[0], 1)
        tiers = cfg.fee_tiers
        if quote_mint == USDC and cfg.stable_fee_tiers:
            tiers = cfg.stable_fee_tiers
        pick = tiers[0]
        if cap >= pick[0]:
            pick = next(t for t in reversed(tiers) if cap >= t[0])
        fees = pick[1:]
    else:
        fees = cfg.flat_fees
    return (fees[0], fees[1], fees[2] if has_creator else 0)


@dataclass(frozen=True, slots=True)
class SpecState:
    """A simulated pool's own state beside its spec's reserves (base, quote): what its
    fee rates depend on, and how it goes into a ``PoolGraph`` (``PoolSpec.upsert``)."""

    fee_config: Any
    canonical: bool
    has_creator: bool
    quote_mint: str
    supply: int

    def bps(self, spec: synthetic.PoolSpec) -> tuple[int, int, int]:
        return program_fees(
            self.fee_config,
            self.canonical,
            False,
            self.quote_mint,
            self.has_creator,
            (spec.reserve_a, spec.reserve_b),
            self.supply,
        )

    def upsert(self, graph: Any, spec: synthetic.PoolSpec, slot: int = 0) -> None:
        graph.upsert_pump(
            spec.pool_id,
            spec.mint_a,
            spec.mint_b,
            spec.reserve_a,
            spec.reserve_b,
            *self.bps(spec),
            slot,
        )


def _fees(world: World, pool: Pool) -> tuple[int, int, int]:
    """The rates a swap on ``pool`` pays now."""
    state: SpecState = pool.spec.state
    return state.bps(pool.spec)


def _split(world: World, pool: Pool, a_to_b: bool, amount: int) -> Split | None:
    s = pool.spec
    return split(s.reserve_a, s.reserve_b, _fees(world, pool), a_to_b, amount)


# ------------------------------------------------------------------ simulator: program
def _check(world: World, s: Swap, pool: Pool, src: D.TokenAccount, dst: D.TokenAccount) -> bool:
    """The program's checks of a swap (the IDL's constraints and error names), in its
    order; the direction the instruction states (a sell is base -> quote)."""
    acc = s.accounts
    rec = pool.record
    is_sell = bool(s.a_to_b)
    if acc["global_config"] != GLOBAL_CONFIG:
        raise ProgramError(ANCHOR_CONSTRAINT_SEEDS)
    if acc["base_mint"] != rec.base_mint:
        raise ProgramError(6008)  # InvalidBaseMint
    if acc["quote_mint"] != rec.quote_mint:
        raise ProgramError(6009)  # InvalidQuoteMint
    if acc["pool_base_token_account"] != rec.pool_base_token_account:
        raise ProgramError(6014)  # InvalidPoolBaseTokenAccount
    if acc["pool_quote_token_account"] != rec.pool_quote_token_account:
        raise ProgramError(6015)  # InvalidPoolQuoteTokenAccount
    if acc["protocol_fee_recipient"] not in FEE_RECIPIENTS:
        raise ProgramError(6013)  # InvalidProtocolFeeRecipient
    authority = creator_vault_authority(rec.coin_creator)
    seeded = ("event_authority", "coin_creator_vault_authority", "fee_config", "pool_v2")
    want = (event_authority(), authority, fee_config(), pool_v2(rec.base_mint))
    if tuple(acc[k] for k in seeded) != want:
        raise ProgramError(ANCHOR_CONSTRAINT_SEEDS)
    if acc["buyback_fee_recipient"] not in BUYBACK_FEE_RECIPIENTS:
        raise ProgramError(6053)  # BuybackFeeRecipientNotAuthorized
    base_side, quote_side = (src, dst) if is_sell else (dst, src)
    if base_side.mint != rec.base_mint:
        raise ProgramError(6008)
    if quote_side.mint != rec.quote_mint:
        raise ProgramError(6009)
    for side, mint in (
        ("base_token_program", rec.base_mint),
        ("quote_token_program", rec.quote_mint),
    ):
        # the program's transfers go to the token program passed: one that does not own
        # the mint's accounts fails them (the IDL names no constraint on it)
        if acc[side] != world.token_programs.get(mint, SPL_TOKEN):
            raise InstructionFailed("IncorrectProgramId", "incorrect program id for instruction")
    if s.amount_in == 0:
        raise ProgramError(6001 if is_sell else 6002)  # ZeroBaseAmount / ZeroQuoteAmount
    if not is_sell:
        # buy_exact_quote_in has its own refusals and slippage code
        q = _split(world, pool, False, s.amount_in)
        if q is None:
            raise ProgramError(6039)  # BuyNotEnoughQuoteTokensToCoverFees
        if q.out == 0:
            raise ProgramError(6001)  # ZeroBaseAmount (inferred from the IDL's names)
        if q.out < s.minimum_out:
            raise ProgramError(6040)  # BuySlippageBelowMinBaseAmountOut
    return is_sell


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    from ...sim.world import SwapQuote

    q = _split(world, pool, a_to_b, amount)
    return None if q is None or q.out <= 0 else SwapQuote(q.paid_in, q.out, after=q)


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    """The reserves after the swap; the protocol and creator fees leave the quote vault
    (the runtime moves ``paid_in`` and ``out``: the quote vault gives the rest)."""
    sp: Split = q.after
    s = pool.spec
    s.reserve_a += sp.d_base
    s.reserve_b += sp.d_quote
    leave = sp.protocol + sp.creator
    acc = world.accounts[pool.vault_b]
    amount = int.from_bytes(acc.data[64:72], "little") - leave
    acc.data = acc.data[:64] + amount.to_bytes(8, "little") + acc.data[72:]


def _price(pool: Pool) -> float:
    return pool.spec.reserve_b / pool.spec.reserve_a


def _depth(pool: Pool, a_to_b: bool) -> float:
    return float(pool.spec.reserve_a if a_to_b else pool.spec.reserve_b)


# ------------------------------------------------------------------ simulator: market
def _setup(world: World) -> Any:
    """The one ``GlobalConfig`` at its PDA, and the fee program's ``FeeConfig`` at its
    (returned: what the pools' fee rates come from)."""
    cfg = D.PumpAmmGlobalConfig(
        sim_key("pump-admin"), SIM_FEES[0], SIM_FEES[1], 0, FEE_RECIPIENTS, SIM_FEES[2]
    )
    world.put(GLOBAL_CONFIG, PROGRAM, encode_global_config(cfg))
    fees = D.PumpFeeConfig(255, sim_key("pump-fees-admin"), SIM_FLAT_FEES, SIM_FEE_TIERS, ())
    world.put(fee_config(), FEE_PROGRAM, encode_fee_config(fees))
    return fees


def _takes(spec: synthetic.PoolSpec) -> bool:
    return spec.venue == IDS.name


def _create(world: World, i: int, spec: synthetic.PoolSpec) -> Pool:
    """The pool account at its PDA (quote: :func:`guess_quote`, wrapped SOL in a SOL
    pair), its vaults at the pool's ATAs; every other pool has a coin creator (a
    canonical pool's creator fee)."""
    if guess_quote(spec.mint_a, spec.mint_b) == spec.mint_a:  # turn the spec around
        spec.mint_a, spec.mint_b = spec.mint_b, spec.mint_a
        spec.reserve_a, spec.reserve_b = spec.reserve_b, spec.reserve_a
    base, quote = spec.mint_a, spec.mint_b
    canonical = i % 2 == 0  # a canonical pool: the Pump program migrated it, it has a coin creator
    creator = pump_pool_authority(base) if canonical else sim_key("pump-creator", i)
    index = 0
    addr, bump = pool_address(index, creator, base, quote)
    while addr in world.accounts:  # another pool of the same pair and creator: next index
        index += 1
        addr, bump = pool_address(index, creator, base, quote)
    programs = world.token_programs
    va = ata_address(addr, base, programs.get(base, SPL_TOKEN))
    vb = ata_address(addr, quote, programs.get(quote, SPL_TOKEN))
    coin_creator = sim_key("pump-coin-creator", i) if canonical else ZERO_KEY
    lp_mint = _pda([b"pool_lp_mint", _b(addr)])
    rec = D.PumpAmmPool(
        bump, index, creator, base, quote, lp_mint, va, vb, 10**12, coin_creator, False, False
    )
    supply = int.from_bytes(world.accounts[base].data[36:44], "little")  # the mint's supply
    spec.state = SpecState(world.venue_state[IDS.name], canonical, canonical, quote, supply)
    world.put(addr, PROGRAM, encode_pool(rec))
    spec.pool_id = addr
    world.vault(va, base, addr, spec.reserve_a, immutable_owner=True)  # the pool's ATAs
    world.vault(vb, quote, addr, spec.reserve_b, immutable_owner=True)
    return Pool(IDS.kind, addr, base, quote, va, vb, rec, spec)


def _event(
    world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int, before: tuple[int, int, int]
) -> str:
    """The trade's ``SellEvent`` / ``BuyEvent`` line (IDL layouts; the market's traders
    have no accounts: their keys are zero, their balances 0)."""
    lp_bps, pr_bps, cr_bps = _fees(world, pool)
    q = split(
        before[0] if a_to_b else before[1],
        before[1] if a_to_b else before[0],
        (lp_bps, pr_bps, cr_bps),
        a_to_b,
        paid_in,
    )
    assert q is not None
    rec = pool.record
    base_r, quote_r = (before[0], before[1]) if a_to_b else (before[1], before[0])
    zero = bytes(32)
    ts = 1_700_000_000 + world.slot * 2 // 5
    recipient = fee_recipient(pool.address)
    keys = (
        _b(pool.address)
        + zero * 3
        + _b(recipient)
        + _b(ata_address(recipient, rec.quote_mint))
        + _b(rec.coin_creator)
    )
    if a_to_b:
        gross = q.out + q.lp + q.protocol + q.creator
        head = struct.pack(
            "<q13Q",
            ts,
            paid_in,
            0,
            0,
            0,
            base_r,
            quote_r,
            gross,
            lp_bps,
            q.lp,
            pr_bps,
            q.protocol,
            gross - q.lp,
            out,
        )
        tail = struct.pack("<6Q", cr_bps, q.creator, 0, 0, 0, 0)
        body = DISC_SELL_EVENT + head + keys + tail
    else:
        net = paid_in - q.lp - q.protocol - q.creator
        head = struct.pack(
            "<q13Q",
            ts,
            out,
            paid_in,
            0,
            0,
            base_r,
            quote_r,
            paid_in,
            lp_bps,
            q.lp,
            pr_bps,
            q.protocol,
            net + q.lp,
            net,
        )
        name = b"buy_exact_quote_in"
        tail = (
            struct.pack("<2Q?3QqQ", cr_bps, q.creator, False, 0, 0, 0, 0, 0)
            + struct.pack("<I", len(name))
            + name
            + struct.pack("<4Q", 0, 0, 0, 0)
        )
        body = DISC_BUY_EVENT + head + keys + tail
    return "Program data: " + base64.b64encode(body).decode()


EVENT_IX_TAG = bytes.fromhex("e445a52e51cb9a1d")  # Anchor's emit_cpi! instruction tag


def _cpi_events(
    world: World, pool: Pool, s: Swap, events: tuple[str, ...]
) -> tuple[list[InnerIx], list[InnerIx]]:
    """``Logs.cpi_events``: the program logs its ``SellEvent`` / ``BuyEvent``
    (``Program data:``) and emits the same event by self-CPI after its transfers
    (mainnet's transactions show both: an ``invoke [2]`` of the program after the
    ``Program data:`` line), its event authority the CPI's account."""
    after = [
        InnerIx(PROGRAM, (event_authority(),), EVENT_IX_TAG + base64.b64decode(e.split(": ", 1)[1]))
        for e in events
        if e.startswith("Program data: ")
    ]
    return [], after


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    return "Program log: Instruction: " + ("Sell" if a_to_b else "BuyExactQuoteIn")


def _load(world: World, pool: Pool) -> None:
    """``Program.load``: the pool read back from its accounts: the ``Pool``, the
    reserves (its vaults), what its fee rates depend on (a canonical pool, a coin
    creator, the base mint's supply)."""
    acc = world.accounts[pool.address]
    r = decode_pool(world.eng, acc.data, acc.owner)
    pool.record = r
    s = pool.spec
    s.reserve_a, s.reserve_b = world.balance(pool.vault_a), world.balance(pool.vault_b)
    supply = int.from_bytes(world.accounts[r.base_mint].data[36:44], "little")
    canonical = r.creator == pump_pool_authority(r.base_mint)
    s.state = SpecState(
        world.venue_state[IDS.name],
        canonical,
        r.coin_creator not in (None, ZERO_KEY),
        r.quote_mint,
        supply,
    )


# quote_error: Overflow; no output: ZeroQuoteAmount, a sell whose fees eat its output; a
# real PumpSwap swap's transcript: "consumed 58881 of 600000 compute units"
RUNS = sv.Program(_check, sv.always(6023), 6002, sv.flat(58_881), "Sell", _load)
MARKET = sv.Market(_setup, _takes, _create, _swapped, share=0.3, from_kind="cpmm")
RENT = {POOL_LEN: 2_978_880, GLOBAL_CONFIG_LEN: 5_366_160}
LOGS = sv.Logs(_event, _cpi_events, sv.TRANSFER_CHECKED)
CURVE = sv.Curve(_quote, _apply, _price, _depth)
SIM = sv.SimVenue(VENUE, RUNS, MARKET, RENT, CURVE, LOGS, state_in_pool_account=False)

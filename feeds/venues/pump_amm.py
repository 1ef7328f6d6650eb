"""PumpSwap, the Pump AMM (``pAMMBay6…``): constant-product pools of a base and a quote
mint, with an LP, a protocol and a coin-creator fee.

Sources: ``pump-fun/pump-public-docs`` (2026-05-19): ``idl/pump_amm.json`` (layouts,
discriminators, the ``sell`` and ``buy_exact_quote_in`` accounts in order, events, error
codes), ``docs/PUMP_SWAP_README.md`` (GlobalConfig and pool PDAs),
``docs/PUMP_SWAP_CREATOR_FEE_README.md`` (``coin_creator``, its vault),
``docs/FEE_RECIPIENTS.md`` (the protocol fee recipients).

- Swap, exact in: ``sell`` (base in: ``base_amount_in`` ‖ ``min_quote_amount_out``) and
  ``buy_exact_quote_in`` (quote in: ``spendable_quote_in`` ‖ ``min_base_amount_out`` ‖
  ``track_volume`` OptionBool); the IDL's 21 and 23 accounts in its order, then the
  remaining accounts of ``docs/BREAKING_FEE_RECIPIENT.md`` (24 and 26 in all): ``pool-v2``
  (readonly; its seeds ``["pool-v2", base_mint]`` are not in the mirrored sources, they
  are what public integrations derive), a buyback fee recipient (readonly) and its quote
  ATA (writable). Cashback coins' extra accounts are not built.
- Pool account: ``Pool`` (300 bytes as pools are written today), at the PDA of
  ``["pool", index u16 LE, creator, base_mint, quote_mint]``; its vaults are the pool's
  ATAs; the fee rates are in the one ``GlobalConfig`` at the PDA of ``["global_config"]``.
- Log: Anchor ``BuyEvent`` / ``SellEvent`` as ``Program data:`` lines (the program also
  emits them by self-CPI; the simulator writes the log line).
- Errors: the IDL's (Anchor, from 6000).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from engine_rs import decoded as D

from ..sim.layouts import Writer
from ..sim.state import Pool, sim_key
from ..wire.instructions import (
    ATA_PROGRAM,
    SPL_TOKEN,
    SYSTEM_PROGRAM,
    InstructionError,
    Swap,
    account_meta,
    ata_address,
    instruction,
    need_accounts,
    pdas,
    read_u64s,
)
from .base import (
    ANCHOR_CONSTRAINT_SEEDS,
    ComputeUnits,
    Discoverable,
    InstructionFailed,
    Leg,
    PoolFacts,
    PoolLayout,
    ProgramError,
    SimVenue,
    Venue,
)
from .ids import ids, program

if TYPE_CHECKING:
    from ..sim import synthetic
    from ..sim.world import SwapQuote, World

IDS = ids("pump_amm")
PROGRAM = program(IDS)
POOL_LEN = IDS.pool_account_size  # 300: the whole IDL Pool, as pools are extended to
GLOBAL_CONFIG_LEN = 643  # the mainnet account's size (through is_cashback_enabled)
GLOBAL_CONFIG = "ADyA8hdefvWN2dbGGWFotbzWxrAvLW83WG6QCVXvJKqw"  # PDA of ["global_config"]
FEE_PROGRAM = "pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ"  # IDL: fee_program
FEE_CONFIG_ADDRESS = "5PHirr8joyTMp9JMm6nW7hNDVyEYdkzDqazxPD7RaTjx"  # fee_config(), a test checks
PUMP_PROGRAM = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"  # its pool authority: canonical
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
MAYHEM_SUPPLY = 10**15
WSOL = "So11111111111111111111111111111111111111112"
ZERO_KEY = "11111111111111111111111111111111"
DISC_POOL = hashlib.sha256(b"account:Pool").digest()[:8]
DISC_GLOBAL_CONFIG = hashlib.sha256(b"account:GlobalConfig").digest()[:8]
DISC_BUY_EVENT = hashlib.sha256(b"event:BuyEvent").digest()[:8]
DISC_SELL_EVENT = hashlib.sha256(b"event:SellEvent").digest()[:8]
SELL = hashlib.sha256(b"global:sell").digest()[:8]
BUY_EXACT_QUOTE_IN = hashlib.sha256(b"global:buy_exact_quote_in").digest()[:8]
# docs/FEE_RECIPIENTS.md: the normal fee recipients (a swap names any one of them)
FEE_RECIPIENTS = (
    "62qc2CNXwrYqQScmEdiZFFAnJR262PxWEuNQtxfafNgV",
    "7VtfL8fvgNfhz17qKRMjzQEXgbdpnHHHQRh54R9jP2RJ",
    "7hTckgnGnLQR6sdH7YkqFTAA7VwTfYFaZ6EhEsU3saCX",
    "9rPYyANsfQZw3DnDmKE3YCQF5E8oD89UXoHn9JFEhJUz",
    "AVmoTthdrX6tKt4nDjco2D775W2YK3sDhxPcMmzUAmTY",
    "CebN5WGQ4jvEPvsVU4EoHEpgzq1VV7AbicfhtW4xC9iM",
    "FWsW1xNtWscwNmKv6wVsU1iTzRN6wmmk3MjxRP5tT7hz",
    "G5UZAVbAf46s7cKWoyKu8kYTip9DGTpbLZ2qa9Aq69dP",
)
# docs/FEE_RECIPIENTS.md: the buyback fee recipients (every swap names one)
BUYBACK_FEE_RECIPIENTS = (
    "5YxQFdt3Tr9zJLvkFccqXVUwhdTWJQc1fFg2YPbxvxeD",
    "9M4giFFMxmFGXtc3feFzRai56WbBqehoSeRE5GK7gf7",
    "GXPFM2caqTtQYC2cJ5yJRi9VDkpsYZXzYdwYpGnLmtDL",
    "3BpXnfJaUTiwXnJNe7Ej1rcbzqTTQUvLShZaWazebsVR",
    "5cjcW9wExnJJiqgLjq7DEG75Pm6JBgE1hNv4B2vHXUW6",
    "EHAAiTxcdDwQ3U4bU6YcMsQGaekdzLS3B5SmYo46kJtL",
    "5eHhjP8JaYkz83CWwvGU2uMUXefd3AazWGx4gpcuEEYD",
    "A7hAgCzFw14fejgCp387JUJRMNyz4j89JKnhtKU8piqW",
)
# the IDL's errors a swap can end in (idl/pump_amm.json "errors")
ERRORS = {
    6001: "ZeroBaseAmount",
    6002: "ZeroQuoteAmount",
    6004: "ExceededSlippage",
    6008: "InvalidBaseMint",
    6009: "InvalidQuoteMint",
    6013: "InvalidProtocolFeeRecipient",
    6014: "InvalidPoolBaseTokenAccount",
    6015: "InvalidPoolQuoteTokenAccount",
    6020: "DisabledBuy",
    6021: "DisabledSell",
    6023: "Overflow",
    6039: "BuyNotEnoughQuoteTokensToCoverFees",
    6040: "BuySlippageBelowMinBaseAmountOut",
    6053: "BuybackFeeRecipientNotAuthorized",
}
DISABLE_BUY, DISABLE_SELL = 1 << 3, 1 << 4  # GlobalConfig.disable_flags bits (IDL)
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
_SELL_ACCOUNTS = (
    "pool",
    "user",
    "global_config",
    "base_mint",
    "quote_mint",
    "user_base_token_account",
    "user_quote_token_account",
    "pool_base_token_account",
    "pool_quote_token_account",
    "protocol_fee_recipient",
    "protocol_fee_recipient_token_account",
    "base_token_program",
    "quote_token_program",
    "system_program",
    "associated_token_program",
    "event_authority",
    "program",
    "coin_creator_vault_ata",
    "coin_creator_vault_authority",
)  # then fee_config, fee_program; buy: the volume accumulators before them
_TAIL = (
    "fee_config",
    "fee_program",
    "pool_v2",
    "buyback_fee_recipient",
    "buyback_fee_recipient_token_account",
)
_SELL_NAMES = (*_SELL_ACCOUNTS, *_TAIL)
_BUY_NAMES = (*_SELL_ACCOUNTS, "global_volume_accumulator", "user_volume_accumulator", *_TAIL)


# ------------------------------------------------------------------ PDAs
def _pda(seeds: list[bytes], prog: str = PROGRAM) -> str:
    return str(pdas().find(seeds, prog)[0])


def _b(key: str) -> bytes:
    return bytes(Pubkey.from_string(key))


def pool_address(index: int, creator: str, base: str, quote: str) -> tuple[str, int]:
    """The pool PDA: ``["pool", index u16 LE, creator, base_mint, quote_mint]``."""
    seeds = [b"pool", index.to_bytes(2, "little"), _b(creator), _b(base), _b(quote)]
    addr, bump = pdas().find(seeds, PROGRAM)
    return str(addr), int(bump)


def event_authority() -> str:
    """Anchor's event authority: ``["__event_authority"]``."""
    return _pda([b"__event_authority"])


def creator_vault_authority(coin_creator: str) -> str:
    """``["creator_vault", pool.coin_creator]`` (docs/PUMP_SWAP_CREATOR_FEE_README.md)."""
    return _pda([b"creator_vault", _b(coin_creator)])


def fee_config() -> str:
    """The fee program's config of this program: ``["fee_config", program id]``."""
    return _pda([b"fee_config", _b(PROGRAM)], FEE_PROGRAM)


def pump_pool_authority(base_mint: str) -> str:
    """The Pump program's pool authority of a mint: the creator of canonical pools."""
    return _pda([b"pool-authority", _b(base_mint)], PUMP_PROGRAM)


def global_volume_accumulator() -> str:
    return _pda([b"global_volume_accumulator"])


def user_volume_accumulator(user: str) -> str:
    return _pda([b"user_volume_accumulator", _b(user)])


def fee_recipient(pool: str) -> str:
    """One of the 8 recipients, picked by the pool (the docs: any, spread them)."""
    return FEE_RECIPIENTS[_b(pool)[0] % len(FEE_RECIPIENTS)]


def buyback_fee_recipient(pool: str) -> str:
    """One of the 8 buyback fee recipients, picked by the pool."""
    return BUYBACK_FEE_RECIPIENTS[_b(pool)[1] % len(BUYBACK_FEE_RECIPIENTS)]


def pool_v2(base_mint: str) -> str:
    """``["pool-v2", base_mint]`` (not in the mirrored sources: public integrations')."""
    return _pda([b"pool-v2", _b(base_mint)])


# ------------------------------------------------------------------ the swap instruction
@dataclass(frozen=True, slots=True)
class SwapKeys:
    """The accounts of one swap besides the user's: the pool's and the program's."""

    pool: str
    base_mint: str
    quote_mint: str
    pool_base: str
    pool_quote: str
    recipient: str
    recipient_ata: str
    base_program: str
    quote_program: str
    creator_vault_ata: str
    creator_vault_authority: str
    buyback: str
    buyback_ata: str


def _metas(sell: bool, user: str, k: SwapKeys, user_base: str, user_quote: str) -> list[Any]:
    metas = [
        account_meta(k.pool, writable=True),
        account_meta(user, signer=True, writable=True),
        account_meta(GLOBAL_CONFIG),
        account_meta(k.base_mint),
        account_meta(k.quote_mint),
        account_meta(user_base, writable=True),
        account_meta(user_quote, writable=True),
        account_meta(k.pool_base, writable=True),
        account_meta(k.pool_quote, writable=True),
        account_meta(k.recipient),
        account_meta(k.recipient_ata, writable=True),
        account_meta(k.base_program),
        account_meta(k.quote_program),
        account_meta(SYSTEM_PROGRAM),
        account_meta(ATA_PROGRAM),
        account_meta(event_authority()),
        account_meta(PROGRAM),
        account_meta(k.creator_vault_ata, writable=True),
        account_meta(k.creator_vault_authority),
    ]
    if not sell:
        metas += [
            account_meta(global_volume_accumulator()),
            account_meta(user_volume_accumulator(user), writable=True),
        ]
    return [
        *metas,
        account_meta(fee_config()),
        account_meta(FEE_PROGRAM),
        account_meta(pool_v2(k.base_mint)),
        account_meta(k.buyback),
        account_meta(k.buyback_ata, writable=True),
    ]


def sell(
    user: str, k: SwapKeys, user_base: str, user_quote: str, base_in: int, min_quote_out: int
) -> Instruction:
    """``sell``: exactly ``base_in`` for at least ``min_quote_out``."""
    data = SELL + struct.pack("<QQ", base_in, min_quote_out)
    return instruction(PROGRAM, data, _metas(True, user, k, user_base, user_quote))


def buy_exact_quote_in(
    user: str,
    k: SwapKeys,
    user_base: str,
    user_quote: str,
    spendable_quote_in: int,
    min_base_out: int,
) -> Instruction:
    """``buy_exact_quote_in``: at most ``spendable_quote_in`` (fees included) for at least
    ``min_base_out``; ``track_volume`` = Some(false) (OptionBool: one bool byte)."""
    data = BUY_EXACT_QUOTE_IN + struct.pack("<QQ?", spendable_quote_in, min_base_out, False)
    return instruction(PROGRAM, data, _metas(False, user, k, user_base, user_quote))


def swap_keys(pool: str, rec: Any, base_program: str, quote_program: str) -> SwapKeys:
    """A pool's swap accounts from its record (the vault ATAs of the fee recipient and
    of the coin creator's vault authority are in the quote mint)."""
    recipient = fee_recipient(pool)
    authority = creator_vault_authority(rec.coin_creator)
    buyback = buyback_fee_recipient(pool)
    return SwapKeys(
        pool,
        rec.base_mint,
        rec.quote_mint,
        rec.pool_base_token_account,
        rec.pool_quote_token_account,
        recipient,
        ata_address(recipient, rec.quote_mint, quote_program),
        base_program,
        quote_program,
        ata_address(authority, rec.quote_mint, quote_program),
        authority,
        buyback,
        ata_address(buyback, rec.quote_mint, quote_program),
    )


def swap_instruction(leg: Leg) -> Instruction:
    """The hop's ``sell`` (base in) or ``buy_exact_quote_in`` (quote in)."""
    r = leg.record
    k = swap_keys(leg.pool, r, leg.token_programs[r.base_mint], leg.token_programs[r.quote_mint])
    if leg.mint_in == r.base_mint:
        return sell(leg.owner, k, leg.source, leg.dest, leg.amount_in, leg.minimum_out)
    return buy_exact_quote_in(leg.owner, k, leg.dest, leg.source, leg.amount_in, leg.minimum_out)


def guess_quote(mint_a: str, mint_b: str) -> str:
    """The quote side of a pair as the simulator orients its pools: wrapped SOL when one
    side is, else the greater mint by bytes (live pools say it themselves)."""
    if WSOL in (mint_a, mint_b):
        return WSOL
    return max(mint_a, mint_b, key=_b)


def sizing_swap(
    payer: str,
    keys: Sequence[str],
    source: str,
    dest: str,
    mint_in: str,
    mint_out: str,
    programs: tuple[str, str] = (SPL_TOKEN, SPL_TOKEN),
) -> Instruction:
    """The swap's shape on placeholder keys (pool, vaults, the fee recipient's ATA, the
    creator vault's ATA and authority): the larger of the two, ``buy_exact_quote_in`` (2
    accounts and 1 byte more than a ``sell``), since placeholder mints do not say which
    side is the quote: an upper bound in bytes and in accounts. The fee and buyback
    recipients are picked by pool, so two pools' swaps may name different ones: each
    pool's are its own placeholders here."""
    import hashlib

    buyback = str(Pubkey.from_bytes(hashlib.sha256(f"{keys[7]}:buyback".encode()).digest()))
    base, quote = mint_out, mint_in
    k = SwapKeys(
        keys[0],
        base,
        quote,
        keys[1],
        keys[2],
        keys[7],
        keys[3],
        programs[1],
        programs[0],
        keys[4],
        keys[5],
        buyback,
        keys[6],
    )
    return buy_exact_quote_in(payer, k, dest, source, 1, 1)


def decode_swap(data: bytes, accounts: list[str]) -> Swap:
    """A ``sell`` or ``buy_exact_quote_in`` back as a :class:`Swap` (``a_to_b``: a sell)."""
    head = data[:8]
    names: tuple[str, ...]
    if head == SELL:
        amount, minimum = read_u64s(data, 8, 2, "sell")
        names = _SELL_NAMES
    elif head == BUY_EXACT_QUOTE_IN:
        amount, minimum = read_u64s(data, 8, 2, "buy_exact_quote_in")
        if len(data) < 25 or data[24] > 1:
            raise InstructionError("InvalidInstructionData", "buy_exact_quote_in: track_volume")
        names = _BUY_NAMES
    else:
        raise InstructionError("InvalidInstructionData", "pump amm: not sell / buy_exact_quote_in")
    is_sell = head == SELL
    need_accounts(accounts, len(names), "sell" if is_sell else "buy_exact_quote_in")
    acc = dict(zip(names, accounts))
    base, quote = acc["user_base_token_account"], acc["user_quote_token_account"]
    src, dst = (base, quote) if is_sell else (quote, base)
    return Swap(PROGRAM, acc["pool"], amount, minimum, src, dst, acc["user"], acc, is_sell)


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``Pool`` account, decoded by the engine."""
    return eng.decode_pump_amm_pool(data, owner)


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
    for i, k in enumerate(keys):
        w.key(11 + 32 * i, k)
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
    w.u64(40, r.lp_fee_basis_points)
    w.u64(48, r.protocol_fee_basis_points)
    w.u8(56, r.disable_flags)
    for i, k in enumerate(r.protocol_fee_recipients):
        w.key(57 + 32 * i, k)
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
    ``pump_swap`` gives the same ``out``, which tests check); None when refused."""
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
    from ..sim.world import SwapQuote

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


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    return "Program log: Instruction: " + ("Sell" if a_to_b else "BuyExactQuoteIn")


DISCOVERY = Discoverable(
    "PumpSwap",
    # base_mint 43 / quote_mint 75 (IDL Pool after the discriminator, bump and index)
    PoolLayout(43, 75, discriminator=DISC_POOL),
    lambda r: PoolFacts(
        r.base_mint, r.quote_mint, r.pool_base_token_account, r.pool_quote_token_account
    ),
    # the fee program's FeeConfig: its flat rates, what a pool not created by the Pump
    # program pays (a canonical pool pays its market-cap tier: 0.30% to 1.25%,
    # docs/fees.png, which discovery does not work out)
    config=lambda r: FEE_CONFIG_ADDRESS,
    fee_of_config=lambda eng, data, owner: (
        sum(eng.decode_pump_fee_config(data, owner).flat_fees) / 10_000
    ),
)


def _load(world: World, pool: Pool) -> None:
    """``SimVenue.load``: the pool read back from its accounts: the ``Pool``, the
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


VENUE = Venue(
    ids=IDS,
    decode_pool=decode_pool,
    swap_instruction=swap_instruction,
    sizing_swap=sizing_swap,
    decode_swap=decode_swap,
    errors=ERRORS,
    slippage_error=6004,  # ExceededSlippage (a sell's; a buy's is 6040, from `check`)
    compute_units=ComputeUnits(
        120_000
    ),  # twice a real swap's 58,881 (swaps near 73,500 are seen too)
    fresh_state=False,
    anchor=True,
    sim=SimVenue(
        load=_load,
        check=_check,
        quote_error=lambda text: 6023,  # Overflow
        no_output_error=6002,  # ZeroQuoteAmount: a sell whose fees eat its output
        # a real PumpSwap swap's transcript: "consumed 58881 of 600000 compute units"
        cost=lambda pool, tick_before: 58_881,
        instruction_name="Sell",
        setup=_setup,
        takes=_takes,
        create=_create,
        swapped=_swapped,
        state_in_pool_account=False,
        event=_event,
        token_instruction="TransferChecked",
        rent={POOL_LEN: 2_978_880, GLOBAL_CONFIG_LEN: 5_366_160},
        quote=_quote,
        apply=_apply,
        price=_price,
        depth=_depth,
        share=0.3,
        from_kind="cpmm",
    ),
    discovery=DISCOVERY,
)

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

Its simulated program is :mod:`.sim` (only the simulator loads it).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from ...wire import instructions as wire
from ...wire.instructions import ATA_PROGRAM, SYSTEM_PROGRAM, InstructionError, Swap
from ..base import ComputeUnits, Discoverable, Leg, PoolFacts, PoolLayout, Sizing, Swaps, Venue
from ..ids import ids, program

IDS = ids("pump_amm")
PROGRAM = program(IDS)
POOL_LEN = IDS.pool_account_size  # 300: the whole IDL Pool, as pools are extended to
GLOBAL_CONFIG_LEN = 643  # the mainnet account's size (through is_cashback_enabled)
GLOBAL_CONFIG = "ADyA8hdefvWN2dbGGWFotbzWxrAvLW83WG6QCVXvJKqw"  # PDA of ["global_config"]
FEE_PROGRAM = "pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ"  # IDL: fee_program
FEE_CONFIG_ADDRESS = "5PHirr8joyTMp9JMm6nW7hNDVyEYdkzDqazxPD7RaTjx"  # fee_config(), a test checks
PUMP_PROGRAM = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"  # its pool authority: canonical
WSOL = "So11111111111111111111111111111111111111112"
ZERO_KEY = "11111111111111111111111111111111"
DISC_POOL = hashlib.sha256(b"account:Pool").digest()[:8]
DISC_GLOBAL_CONFIG = hashlib.sha256(b"account:GlobalConfig").digest()[:8]
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
    return str(wire.pdas().find(seeds, prog)[0])


def _b(key: str) -> bytes:
    return bytes(Pubkey.from_string(key))


def pool_address(index: int, creator: str, base: str, quote: str) -> tuple[str, int]:
    """The pool PDA: ``["pool", index u16 LE, creator, base_mint, quote_mint]``."""
    seeds = [b"pool", index.to_bytes(2, "little"), _b(creator), _b(base), _b(quote)]
    addr, bump = wire.pdas().find(seeds, PROGRAM)
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
        wire.account_meta(k.pool, writable=True),
        wire.account_meta(user, signer=True, writable=True),
        *wire.readonly(GLOBAL_CONFIG, k.base_mint, k.quote_mint),
        *wire.writable(user_base, user_quote, k.pool_base, k.pool_quote),
        wire.account_meta(k.recipient),
        wire.account_meta(k.recipient_ata, writable=True),
        *wire.readonly(k.base_program, k.quote_program, SYSTEM_PROGRAM, ATA_PROGRAM),
        *wire.readonly(event_authority(), PROGRAM),
        wire.account_meta(k.creator_vault_ata, writable=True),
        wire.account_meta(k.creator_vault_authority),
    ]
    if not sell:
        metas += [
            wire.account_meta(global_volume_accumulator()),
            wire.account_meta(user_volume_accumulator(user), writable=True),
        ]
    return [
        *metas,
        *wire.readonly(fee_config(), FEE_PROGRAM, pool_v2(k.base_mint), k.buyback),
        wire.account_meta(k.buyback_ata, writable=True),
    ]


def sell(
    user: str, k: SwapKeys, user_base: str, user_quote: str, base_in: int, min_quote_out: int
) -> Instruction:
    """``sell``: exactly ``base_in`` for at least ``min_quote_out``."""
    data = SELL + struct.pack("<QQ", base_in, min_quote_out)
    return wire.instruction(PROGRAM, data, _metas(True, user, k, user_base, user_quote))


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
    return wire.instruction(PROGRAM, data, _metas(False, user, k, user_base, user_quote))


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
        wire.ata_address(recipient, rec.quote_mint, quote_program),
        base_program,
        quote_program,
        wire.ata_address(authority, rec.quote_mint, quote_program),
        authority,
        buyback,
        wire.ata_address(buyback, rec.quote_mint, quote_program),
    )


def swap_instruction(leg: Leg) -> Instruction:
    """The hop's ``sell`` (base in) or ``buy_exact_quote_in`` (quote in)."""
    r = leg.record
    k = swap_keys(leg.pool, r, leg.token_programs[r.base_mint], leg.token_programs[r.quote_mint])
    if leg.mint_in == r.base_mint:
        return sell(leg.owner, k, leg.source, leg.dest, leg.amount_in, leg.minimum_out)
    return buy_exact_quote_in(leg.owner, k, leg.dest, leg.source, leg.amount_in, leg.minimum_out)


def sizing_swap(s: Sizing) -> Instruction:
    """The swap's shape on placeholder keys (pool, vaults, the fee recipient's ATA, the
    creator vault's ATA and authority): the larger of the two, ``buy_exact_quote_in`` (2
    accounts and 1 byte more than a ``sell``), since placeholder mints do not say which
    side is the quote: an upper bound in bytes and in accounts. The fee and buyback
    recipients are picked by pool, so two pools' swaps may name different ones: each
    pool's are its own placeholders here."""
    keys = s.keys
    buyback = str(Pubkey.from_bytes(hashlib.sha256(f"{keys[7]}:buyback".encode()).digest()))
    base, quote = s.mint_out, s.mint_in
    pools = (keys[0], base, quote, keys[1], keys[2], keys[7], keys[3])
    k = SwapKeys(*pools, s.programs[1], s.programs[0], keys[4], keys[5], buyback, keys[6])
    return buy_exact_quote_in(s.payer, k, s.dest, s.source, 1, 1)


def decode_swap(data: bytes, accounts: list[str]) -> Swap:
    """A ``sell`` or ``buy_exact_quote_in`` back as a :class:`Swap` (``a_to_b``: a sell)."""
    head = data[:8]
    names: tuple[str, ...]
    if head == SELL:
        amount, minimum = wire.read_u64s(data, 8, 2, "sell")
        names = _SELL_NAMES
    elif head == BUY_EXACT_QUOTE_IN:
        amount, minimum = wire.read_u64s(data, 8, 2, "buy_exact_quote_in")
        if len(data) < 25 or data[24] > 1:
            raise InstructionError("InvalidInstructionData", "buy_exact_quote_in: track_volume")
        names = _BUY_NAMES
    else:
        raise InstructionError("InvalidInstructionData", "pump amm: not sell / buy_exact_quote_in")
    is_sell = head == SELL
    acc = wire.named_accounts(accounts, names, "sell" if is_sell else "buy_exact_quote_in")
    base, quote = acc["user_base_token_account"], acc["user_quote_token_account"]
    src, dst = (base, quote) if is_sell else (quote, base)
    return Swap(PROGRAM, acc["pool"], amount, minimum, src, dst, acc["user"], acc, is_sell)


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``Pool`` account, decoded by the engine."""
    return eng.pump_amm.decode_pool(data, owner)


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
        sum(eng.pump_amm.decode_fee_config(data, owner).flat_fees) / 10_000
    ),
)


SLIPPAGE = 6004  # ExceededSlippage (a sell's; a buy's is 6040, from `check`)
# twice a real swap's 58,881 (swaps near 73,500 are seen too)
COMPUTE_UNITS = ComputeUnits(120_000)
SWAPS = Swaps(swap_instruction, sizing_swap, decode_swap)
VENUE = Venue(IDS, decode_pool, SWAPS, ERRORS, SLIPPAGE, COMPUTE_UNITS, DISCOVERY)

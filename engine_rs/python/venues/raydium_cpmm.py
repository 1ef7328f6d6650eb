"""Raydium CP-Swap (twin of ``crates/core/src/venues/raydium_cpmm/``): the ``PoolState``
and ``AmmConfig`` accounts (spec §1.4), its constant-product quotes (spec §1.5) and its
Anchor ``SwapEvent`` (spec §6.2).

The pool's reserves are its vault balances minus the protocol, fund and creator fees
they hold; swaps charge its ``AmmConfig``'s ``trade_fee_rate`` per 1,000,000 on the
input. It follows one account of its own: the ``AmmConfig`` the pool account names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...decoded import CpmmSwapEvent, RaydiumAmmConfig, RaydiumCpmmPool
from ...errors import AccountTooShortError
from ...records import VenueInfo
from ..amm import ConstantProduct, reserves_from_vaults
from ..decode import Reader, check
from . import Assembly, OwnAccount, OwnRole, no_role

PROGRAM_ID = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
DISC_POOL = bytes.fromhex("f7ede3f5d7c3de46")
DISC_CONFIG = bytes.fromhex("daf42168cbcb2b6f")
DISC_SWAP_EVENT = bytes([64, 198, 205, 232, 38, 8, 113, 226])
POOL_SIZE = 637  # PoolState with its discriminator
CONFIG_SIZE = 236  # AmmConfig with its discriminator
FEE_DEN = 1_000_000  # fee rates are per this
CONFIG = "config"  # the role of the pool's AmmConfig

OWN_ROLES: tuple[OwnRole, ...] = (OwnRole(CONFIG, True),)
ARRAYS: str | None = None
INFO = VenueInfo("raydium_cpmm", "cpmm", "cp", "cpmm", (PROGRAM_ID,), POOL_SIZE, ARRAYS)
LOG_PREFIX: str | None = None


def decode_raydium_cpmm(data: bytes, owner: object = None) -> RaydiumCpmmPool:
    """Raydium CP-Swap ``PoolState`` (spec §1.4)."""
    r = check(data, "PoolState", POOL_SIZE, DISC_POOL, owner, (PROGRAM_ID,))
    k = r.key
    return RaydiumCpmmPool(
        k(8),
        k(40),
        k(72),
        k(104),
        k(136),
        k(168),
        k(200),
        k(232),
        k(264),
        k(296),
        r.u8(328),
        r.u8(329),
        r.u8(330),
        r.u8(331),
        r.u8(332),
        r.u64(333),
        r.u64(341),
        r.u64(349),
        r.u64(357),
        r.u64(365),
        r.u64(373),
        r.u64(381),
        r.u8(389),
        r.flag(390),
        r.u64(397),
        r.u64(405),
    )


def decode_raydium_amm_config(data: bytes, owner: object = None) -> RaydiumAmmConfig:
    """Raydium CP-Swap ``AmmConfig`` (spec §1.4)."""
    r = check(data, "AmmConfig", CONFIG_SIZE, DISC_CONFIG, owner, (PROGRAM_ID,))
    return RaydiumAmmConfig(
        r.u8(8),
        r.flag(9),
        r.u16(10),
        r.u64(12),
        r.u64(20),
        r.u64(28),
        r.u64(36),
        r.key(44),
        r.key(76),
        r.u64(108),
    )


def parse_event(raw: bytes) -> CpmmSwapEvent | None:
    """Its ``SwapEvent`` (the old 81-byte body or the 162-byte one since 2025-08) when
    the discriminator is that; None otherwise."""
    if raw[:8] != DISC_SWAP_EVENT or len(raw) > 8 + 162:
        # longer than its newest form: not its event (Raydium CLMM's SwapEvent, 205 or 221
        # bytes, has the same discriminator)
        return None
    if len(raw) < 8 + 81:
        raise AccountTooShortError(f"SwapEvent: {len(raw)} bytes, needs 89")
    r = Reader(raw, "event")
    base = (
        r.key(8),
        r.u64(40),
        r.u64(48),
        r.u64(56),
        r.u64(64),
        r.u64(72),
        r.u64(80),
        r.flag(88),
    )
    if len(raw) >= 8 + 162:
        return CpmmSwapEvent(*base, r.key(89), r.key(121), r.u64(153), r.u64(161), r.flag(169))
    return CpmmSwapEvent(*base)


def parse_log(raw: bytes) -> None:
    return None  # its swaps are Anchor events (`parse_event`)


decode = decode_raydium_cpmm  # the pool account's decoder

# its public namespace, eng.raydium_cpmm (Venue.API): public name -> definition here
API: dict[str, str] = {
    "decode_pool": "decode_raydium_cpmm",
    "decode_config": "decode_raydium_amm_config",
}


def identity(rec: RaydiumCpmmPool) -> tuple[Any, ...]:
    """Every key (config, vaults, mints, programs...), the bump, status and decimals."""
    return (
        rec.amm_config,
        rec.pool_creator,
        rec.token_0_vault,
        rec.token_1_vault,
        rec.lp_mint,
        rec.token_0_mint,
        rec.token_1_mint,
        rec.token_0_program,
        rec.token_1_program,
        rec.observation_key,
        rec.auth_bump,
        rec.status,
        rec.lp_mint_decimals,
        rec.mint_0_decimals,
        rec.mint_1_decimals,
    )


def reserve_mints(rec: RaydiumCpmmPool) -> tuple[str, str]:
    """(token 0, token 1)."""
    return rec.token_0_mint, rec.token_1_mint


def vaults(rec: RaydiumCpmmPool) -> tuple[str, str]:
    return rec.token_0_vault, rec.token_1_vault


def followed(rec: RaydiumCpmmPool) -> tuple[tuple[str, str], ...]:
    """Its ``AmmConfig``."""
    return ((CONFIG, rec.amm_config),)


@dataclass(slots=True)
class Config:
    """What the ingest keeps of a CP-Swap pool's own accounts: its ``AmmConfig``'s trade
    fee rate (per 1,000,000), once seen."""

    trade_fee_rate: int | None = None


def new_own() -> Config:
    return Config()


def forget(own: object, pubkey: str) -> bool:
    """Nothing is tracked by the caller."""
    return False


absent = forget  # (no arrays: never called)


def own_account(own: Config, role: str, cx: OwnAccount) -> None:
    if role != CONFIG:
        raise no_role(INFO, role)
    own.trade_fee_rate = decode_raydium_amm_config(cx.data, cx.owner).trade_fee_rate


def check_own_account(role: str, cx: OwnAccount) -> None:
    if role != CONFIG:
        raise no_role(INFO, role)
    decode_raydium_amm_config(cx.data, cx.owner)


def update(own: Config, rec: RaydiumCpmmPool, cx: Assembly) -> tuple[ConstantProduct, int] | None:
    """Reserves = vaults − (protocol + fund + creator fees); the config's trade fee."""
    va, vb = cx.vaults
    if va is None or vb is None:
        return None
    rate = own.trade_fee_rate
    if rate is None:
        return None
    held = (
        rec.protocol_fees_token_0 + rec.fund_fees_token_0 + rec.creator_fees_token_0,
        rec.protocol_fees_token_1 + rec.fund_fees_token_1 + rec.creator_fees_token_1,
    )
    ra, rb = reserves_from_vaults(cx.pool_id, (va, vb), held)
    slot = cx.slot()
    cx.check_ids()
    return ConstantProduct.checked(cx.pool_id, ra, rb, rate, FEE_DEN), slot


# quotes, spot rates and legs: the constant product's own (the functions, not wrappers)
quote = ConstantProduct.amount_out
spot_rate = ConstantProduct.spot_rate
leg = ConstantProduct.leg

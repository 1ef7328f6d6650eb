"""Raydium AMM v4 (twin of ``crates/core/src/venues/raydium_amm_v4/``): the ``AmmInfo``
pool account (spec §1.2), its constant-product quotes (spec §1.3) and its ``ray_log``
swap logs (spec §6.1).

The pool's reserves are its vault balances minus ``need_take_pnl_*``; swaps charge
``swap_fee_numerator / swap_fee_denominator`` on the input. It follows no account of its
own besides its two vaults.
"""

from __future__ import annotations

import struct

from ...decoded import RaydiumAmmV4, SwapBaseInLog, SwapBaseOutLog
from ...errors import AccountTooShortError, DecodeError
from ...records import VenueInfo
from ..amm import ConstantProduct, reserves_from_vaults
from ..decode import b64 as _b64
from ..decode import check
from . import base
from .base import Assembly, OwnAccount, no_role

PROGRAM_ID = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"
POOL_SIZE = 752  # AmmInfo, no discriminator
RAY_LOG = "Program log: ray_log: "

ARRAYS: str | None = None
OWN_ROLES = base.own_roles(ARRAYS)
INFO = VenueInfo("raydium_amm_v4", "amm_v4", "v4", "cpmm", (PROGRAM_ID,), POOL_SIZE, ARRAYS)
LOG_PREFIX: str | None = RAY_LOG


def decode_raydium_amm_v4(data: bytes, owner: object = None) -> RaydiumAmmV4:
    """Raydium AMM v4 ``AmmInfo`` (spec §1.2)."""
    r = check(data, "AmmInfo", POOL_SIZE, owner=owner, owners=(PROGRAM_ID,))
    return RaydiumAmmV4(
        *r.packed(0, "u64*2 _16 u64*3 _88 u64*2 _16 u64*4 _16 u64 _104 key*9 _64 key u64"),
    )


decode = decode_raydium_amm_v4  # the pool account's decoder


def parse_log(raw: bytes) -> SwapBaseInLog | SwapBaseOutLog | None:
    """The swap of a ``ray_log`` line's bytes; None for the other log types."""
    if not raw:
        raise DecodeError("ray_log: empty")
    if raw[0] not in (3, 4):
        if raw[0] > 4:
            raise DecodeError(f"ray_log: log type {raw[0]} is unknown")
        return None
    if len(raw) < 57:
        raise AccountTooShortError(f"ray_log: {len(raw)} bytes, a swap log has 57")
    v = struct.unpack_from("<7Q", raw, 1)
    return SwapBaseInLog(*v) if raw[0] == 3 else SwapBaseOutLog(*v)


def parse_ray_log(b64: str) -> SwapBaseInLog | SwapBaseOutLog | None:
    """The swap log of a ``Program log: ray_log: <b64>`` line (spec §6.1); None for the
    other log types (init, deposit, withdraw). Text that is not base64 (the program's
    plain-text mismatch diagnostics share the prefix) raises DecodeError."""
    return parse_log(_b64(b64, "ray_log"))


# eng.raydium_amm_v4, its public namespace (Venue.API): a public name, then its definition
API = base.api(
    """
    decode_pool  decode_raydium_amm_v4
    parse_log    parse_ray_log
    """
)


# its pool account's identity (status, nonce, both decimals and every key: vaults, mints,
# market, programs...), a field a line, its mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    status
    nonce
    coin_decimals
    pc_decimals
    coin_vault       vault_a
    pc_vault         vault_b
    coin_vault_mint  mint_a
    pc_vault_mint    mint_b
    lp_mint
    open_orders
    market
    market_program
    target_orders
    amm_owner
    """
)


def followed(rec: RaydiumAmmV4) -> tuple[tuple[str, str], ...]:
    return ()


def new_own() -> None:
    return None


forget = absent = base.no_arrays


def own_account(own: None, role: str, cx: OwnAccount) -> None:
    raise no_role(INFO, role)


def check_own_account(role: str, cx: OwnAccount) -> None:
    raise no_role(INFO, role)


def update(own: None, rec: RaydiumAmmV4, cx: Assembly) -> tuple[ConstantProduct, int] | None:
    """Reserves = vaults − need_take_pnl; the swap fee from the pool account."""
    va, vb = cx.vaults
    if va is None or vb is None:
        return None
    held = (rec.need_take_pnl_coin, rec.need_take_pnl_pc)
    ra, rb = reserves_from_vaults(cx.pool_id, (va, vb), held)
    slot = cx.slot()
    cx.check_ids()
    fee = (rec.swap_fee_numerator, rec.swap_fee_denominator)
    return ConstantProduct.checked(cx.pool_id, ra, rb, *fee), slot


# quotes, spot rates and legs: the constant product's own (the functions, not wrappers)
quote = ConstantProduct.amount_out
spot_rate = ConstantProduct.spot_rate
leg = ConstantProduct.leg


def parse_event(raw: bytes) -> None:
    return None  # AMM v4 is no Anchor program: its swaps are in `ray_log` lines

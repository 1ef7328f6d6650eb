"""Raydium CP-Swap (twin of ``crates/core/src/venues/raydium_cpmm/``): the ``PoolState``
and ``AmmConfig`` accounts (spec §1.4), its constant-product quotes (spec §1.5) and its
Anchor ``SwapEvent`` (spec §6.2).

The pool's reserves are its vault balances minus the protocol, fund and creator fees
they hold; swaps charge its ``AmmConfig``'s ``trade_fee_rate`` per 1,000,000 on the
input and, where the pool charges one (``enable_creator_fee``), its ``creator_fee_rate``
on the input or on the output as the pool's ``creator_fee_on`` says for the direction
(raydium-cp-swap since b0b2a08, 2025-08). It follows one account of its own: the
``AmmConfig`` the pool account names.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...decoded import CpmmSwapEvent, RaydiumAmmConfig, RaydiumCpmmPool
from ...errors import AccountTooShortError, InvalidInputError
from ...records import VenueInfo
from ..amm import (
    ConstantProduct,
    CpmmLeg,
    amount_out_unchecked,
    reserves_from_vaults,
    spot_rate_unchecked,
)
from ..decode import Reader, check
from . import base
from .base import Assembly, OwnAccount, no_role

PROGRAM_ID = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
DISC_POOL = bytes.fromhex("f7ede3f5d7c3de46")
DISC_CONFIG = bytes.fromhex("daf42168cbcb2b6f")
DISC_SWAP_EVENT = bytes([64, 198, 205, 232, 38, 8, 113, 226])
POOL_SIZE = 637  # PoolState with its discriminator
CONFIG_SIZE = 236  # AmmConfig with its discriminator
FEE_DEN = 1_000_000  # fee rates are per this
CONFIG = "config"  # the role of the pool's AmmConfig

ARRAYS: str | None = None
OWN_ROLES = base.own_roles(ARRAYS, CONFIG)
INFO = VenueInfo("raydium_cpmm", "cpmm", "cp", "cpmm", (PROGRAM_ID,), POOL_SIZE, ARRAYS)
LOG_PREFIX: str | None = None


def decode_raydium_cpmm(data: bytes, owner: object = None) -> RaydiumCpmmPool:
    """Raydium CP-Swap ``PoolState`` (spec §1.4)."""
    r = check(data, "PoolState", POOL_SIZE, DISC_POOL, owner, (PROGRAM_ID,))
    return RaydiumCpmmPool(
        *r.packed(8, "key*10 u8*5 u64*7 u8 flag _6 u64*2"),
    )


decode = decode_raydium_cpmm  # the pool account's decoder


def decode_raydium_amm_config(data: bytes, owner: object = None) -> RaydiumAmmConfig:
    """Raydium CP-Swap ``AmmConfig`` (spec §1.4)."""
    r = check(data, "AmmConfig", CONFIG_SIZE, DISC_CONFIG, owner, (PROGRAM_ID,))
    return RaydiumAmmConfig(
        *r.packed(8, "u8 flag u16 u64*4 key*2 u64"),
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
        return CpmmSwapEvent(*base, *r.packed(89, "key*2 u64*2 flag"))
    return CpmmSwapEvent(*base)


parse_log = base.no_log


# eng.raydium_cpmm, its public namespace (Venue.API): a public name, then its definition
API = base.api(
    """
    decode_pool    decode_raydium_cpmm
    decode_config  decode_raydium_amm_config
    """
)


# its pool account's identity (every key: config, vaults, mints, programs...; the bump,
# status and decimals), a field a line, its mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    amm_config
    pool_creator
    token_0_vault     vault_a
    token_1_vault     vault_b
    lp_mint
    token_0_mint      mint_a
    token_1_mint      mint_b
    token_0_program
    token_1_program
    observation_key
    auth_bump
    status
    lp_mint_decimals
    mint_0_decimals
    mint_1_decimals
    """
)


def followed(rec: RaydiumCpmmPool) -> tuple[tuple[str, str], ...]:
    """Its ``AmmConfig``."""
    return ((CONFIG, rec.amm_config),)


@dataclass(slots=True)
class Config:
    """What the ingest keeps of a CP-Swap pool's own accounts: its ``AmmConfig``'s trade
    fee rate (per 1,000,000), once seen, and its creator fee rate."""

    trade_fee_rate: int | None = None
    creator_fee_rate: int = 0


def new_own() -> Config:
    return Config()


forget = absent = base.no_arrays


def own_account(own: Config, role: str, cx: OwnAccount) -> None:
    if role != CONFIG:
        raise no_role(INFO, role)
    cfg = decode_raydium_amm_config(cx.data, cx.owner)
    own.trade_fee_rate, own.creator_fee_rate = cfg.trade_fee_rate, cfg.creator_fee_rate


check_own_account = base.checks_of(new_own, own_account)


@dataclass(slots=True)
class CpmmState:
    """A CP-Swap pool's quote state (twin of Rust ``raydium_cpmm::CpmmState``): its
    constant product (the reserves, the trade fee on the input) and the creator fee it
    charges (``creator_fee_rate``: the config's where the pool has ``enable_creator_fee``,
    else 0), taken from the input or from the output in each direction
    (``creator_on_input``: a -> b, b -> a). A direction whose fee comes off the input with
    no fee at all is refused, as the program refuses it (``split_creator_fee`` divides by
    the two rates' sum: ``ZeroTradingTokens``); ``exact``: the constant product that
    quotes both directions exactly, when there is one (sizing's closed form)."""

    cp: ConstantProduct
    creator_fee_rate: int
    creator_on_input: tuple[bool, bool]
    exact: ConstantProduct | None

    @classmethod
    def new(
        cls, pool_id: str, cp: ConstantProduct, creator_fee_rate: int, creator_fee_on: int
    ) -> CpmmState:
        """The state of pool ``pool_id`` with its creator fee (``creator_fee_on`` as the
        pool account holds it: above 2 the program cannot read it; the two rates' sum at
        100 % or more neither: InvalidInputError)."""
        on = {0: (True, True), 1: (True, False), 2: (False, True)}.get(creator_fee_on)
        if on is None:
            raise InvalidInputError(
                f"pool {pool_id}: creator_fee_on {creator_fee_on} is not a CreatorFeeOn"
            )
        if cp.fee_num + creator_fee_rate >= cp.fee_den:
            raise InvalidInputError(
                f"pool {pool_id}: trade and creator fees {cp.fee_num} + {creator_fee_rate} "
                f"of {cp.fee_den}"
            )
        if creator_fee_rate == 0:
            exact = cp if cp.fee_num > 0 or not any(on) else None
        elif all(on):
            exact = ConstantProduct(
                cp.reserve_a, cp.reserve_b, cp.fee_num + creator_fee_rate, cp.fee_den
            )
        else:
            exact = None
        return cls(cp, creator_fee_rate, on, exact)

    def amount_out(self, amount_in: int, a_to_b: bool) -> int | None:
        """The exact output of ``amount_in`` (0 for 0); None where the program refuses the
        direction."""
        cp = self.cp
        ri, ro = cp.reserves(a_to_b)
        if self.creator_on_input[0 if a_to_b else 1]:
            rate = cp.fee_num + self.creator_fee_rate
            if rate == 0:
                return None
            return amount_out_unchecked(amount_in, ri, ro, rate, cp.fee_den)
        swapped = amount_out_unchecked(amount_in, ri, ro, cp.fee_num, cp.fee_den)
        return swapped - -(-swapped * self.creator_fee_rate // cp.fee_den)

    def spot_rate(self, a_to_b: bool) -> float:
        """Output per input after the fees at zero size (the Rust floats)."""
        cp = self.cp
        ri, ro = cp.reserves(a_to_b)
        if self.creator_on_input[0 if a_to_b else 1]:
            return spot_rate_unchecked(ri, ro, cp.fee_num + self.creator_fee_rate, cp.fee_den)
        return spot_rate_unchecked(ri, ro, cp.fee_num, cp.fee_den) * (
            float(cp.fee_den - self.creator_fee_rate) / float(cp.fee_den)
        )

    def leg(self, a_to_b: bool) -> CpmmLeg | CreatorLeg:
        """This pool as a hop of a cycle: the constant product's leg when it is exact."""
        if self.exact is not None:
            return self.exact.leg(a_to_b)
        return CreatorLeg(self, a_to_b)


@dataclass(frozen=True, slots=True)
class CreatorLeg:
    """A CP-Swap hop with a creator fee no one constant product charges (on the output
    one way, or the input with no fee refused): sizing searches over exact swaps."""

    pool: CpmmState
    a_to_b: bool

    def spot_rate(self) -> float:
        return self.pool.spot_rate(self.a_to_b)

    def amount_out(self, amount: int) -> int | None:
        return self.pool.amount_out(amount, self.a_to_b)

    def amount_steps(self, amount: int) -> tuple[int, int] | None:
        """:meth:`amount_out` and its steps: none (its use does not grow with the swap)."""
        out = self.amount_out(amount)
        return None if out is None else (out, 0)

    def constant_product(self) -> None:
        return None


def plain(cp: ConstantProduct) -> CpmmState:
    """A pool with no creator fee and its trade fee as a plain constant product charges it
    (the graph's ``upsert_cpmm``: no direction refused)."""
    return CpmmState(cp, 0, (False, False), cp)


def update(own: Config, rec: RaydiumCpmmPool, cx: Assembly) -> tuple[CpmmState, int] | None:
    """Reserves = vaults − (protocol + fund + creator fees); the config's trade fee, and
    its creator fee where the pool charges it (``adjust_creator_fee_rate``)."""
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
    cp = ConstantProduct.checked(cx.pool_id, ra, rb, rate, FEE_DEN)
    creator = own.creator_fee_rate if rec.enable_creator_fee else 0
    return CpmmState.new(cx.pool_id, cp, creator, rec.creator_fee_on), slot


def quote(state: CpmmState, amount: int, a_to_b: bool) -> int | None:
    return state.amount_out(amount, a_to_b)


def spot_rate(state: CpmmState, a_to_b: bool) -> float:
    return state.spot_rate(a_to_b)


def leg(state: CpmmState, a_to_b: bool) -> CpmmLeg | CreatorLeg:
    return state.leg(a_to_b)

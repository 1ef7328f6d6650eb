"""PumpSwap, the Pump AMM (twin of ``crates/core/src/venues/pump_amm/``): the ``Pool``
and ``GlobalConfig`` accounts, its constant product with its fee split and its Anchor
``BuyEvent`` / ``SellEvent``.

Sources (``pump-fun/pump-public-docs``, 2026-05-19): ``idl/pump_amm.json``,
``docs/PUMP_SWAP_README.md``, ``docs/PUMP_SWAP_CREATOR_FEE_README.md``; the swap
arithmetic is the official SDK's, checked against real mainnet events
(``tests/engine/test_pump_amm.py``). Mint a is the base mint, b the quote mint; a -> b is
``sell`` (base in), b -> a ``buy_exact_quote_in`` (quote in):

- sell: ``gross = ⌊Q·x / (B + x)⌋``; each fee ``⌈gross·bps / 10 000⌉`` comes off it;
- buy: ``net = ⌊S·10 000 / (10 000 + total bps)⌋``, fees ``⌈net·bps / 10 000⌉``, net
  shaved by any excess over ``S``; base out ``⌊B·(net − 1) / (Q + net − 1)⌋``.

Reserves are the vault balances; the rates are the fee program's ``FeeConfig`` tier of a
canonical pool's market cap (flat fees for other pools; the creator's only with a coin
creator), so a pool follows the ``FeeConfig``, its base mint and the ``GlobalConfig``.
The curve prices with the quote vault plus the pool's ``virtual_quote_reserves`` (a field
after the mirrored IDL: see the Rust module); a sell never pays out more than the vault.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...decoded import PumpAmmGlobalConfig, PumpAmmPool, PumpFeeConfig, PumpSwapEvent
from ...errors import AccountTooShortError, InvalidInputError
from ...records import VenueInfo
from .._ints import U64_MAX, u64
from ..decode import Reader, check, decode_mint
from ..derive import find_program_address
from . import base
from .base import Assembly, OwnAccount, no_role

PROGRAM_ID = "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA"
PUMP_PROGRAM_ID = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"
GLOBAL_CONFIG_ID = "ADyA8hdefvWN2dbGGWFotbzWxrAvLW83WG6QCVXvJKqw"  # PDA of ["global_config"]
FEE_PROGRAM_ID = "pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ"
FEE_CONFIG_ID = "5PHirr8joyTMp9JMm6nW7hNDVyEYdkzDqazxPD7RaTjx"  # ["fee_config", program id]
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"  # its canonical pools: stable tiers
MAYHEM_SUPPLY = 1_000_000_000_000_000  # a mayhem pool's market-cap supply
DISC_FEE_CONFIG = bytes([143, 52, 146, 187, 219, 123, 76, 155])
FEE_CONFIG_SIZE = 69  # through the length of fee_tiers
DISC_POOL = bytes([241, 154, 109, 4, 17, 177, 109, 188])
DISC_GLOBAL_CONFIG = bytes([149, 8, 156, 202, 160, 252, 176, 217])
DISC_BUY_EVENT = bytes([103, 244, 82, 31, 44, 245, 119, 119])
DISC_SELL_EVENT = bytes([62, 47, 55, 10, 165, 3, 220, 42])
POOL_SIZE = 211  # Pool through lp_supply (the first layout); later fields read when held
POOL_LEN = 300  # the whole IDL Pool as pools are written today
GLOBAL_CONFIG_SIZE = 313  # through protocol_fee_recipients; the creator fee bps when held
EVENT_HEAD = 8 + 14 * 8 + 32  # discriminator, 14 u64 fields, the pool
BPS_DEN = 10_000
DISABLE_BUY = 1 << 3
DISABLE_SELL = 1 << 4
ZERO_KEY = "11111111111111111111111111111111"
GLOBAL_CONFIG = "global_config"  # the roles of the GlobalConfig, the fee program's
FEE_CONFIG = "fee_config"  # FeeConfig and the base mint (its supply: the market cap)
BASE_MINT = "base_mint"

ARRAYS: str | None = None
OWN_ROLES = base.own_roles(ARRAYS, GLOBAL_CONFIG, FEE_CONFIG, BASE_MINT)
INFO = VenueInfo("pump_amm", "pumpswap", "pump", "pump", (PROGRAM_ID,), POOL_LEN, ARRAYS)
LOG_PREFIX: str | None = None


def decode_pump_amm_pool(data: bytes, owner: object = None) -> PumpAmmPool:
    """PumpSwap ``Pool``."""
    r = check(data, "Pool", POOL_SIZE, DISC_POOL, owner, (PROGRAM_ID,))
    k = r.key
    n = len(r.data)
    fields = [
        *r.packed(8, "u8 u16 key*6 u64"),
        k(211) if n >= 243 else ZERO_KEY,
        n >= 245 and r.flag(243),
        n >= 245 and r.flag(244),
        r.i128(245) if n >= 261 else 0,
    ]
    return PumpAmmPool(*fields)


decode = decode_pump_amm_pool  # the pool account's decoder


def decode_pump_amm_global_config(data: bytes, owner: object = None) -> PumpAmmGlobalConfig:
    """PumpSwap ``GlobalConfig`` (its first 313 bytes, and the creator fee bps when held)."""
    r = check(data, "GlobalConfig", GLOBAL_CONFIG_SIZE, DISC_GLOBAL_CONFIG, owner, (PROGRAM_ID,))
    recipients = tuple(r.key(57 + 32 * i) for i in range(8))
    fields = [*r.packed(8, "key u64*2 u8"), recipients, r.u64(313) if len(r.data) >= 321 else 0]
    return PumpAmmGlobalConfig(*fields)


def _fee_tiers(r: Reader, off: int) -> tuple[tuple[tuple[int, int, int, int], ...], int]:
    n = r.u32(off)
    if off + 4 + 40 * n > len(r.data):
        raise AccountTooShortError(
            f"FeeConfig: {n} fee tiers at {off} do not fit in {len(r.data)} bytes"
        )
    tiers = tuple(
        (r.u128(o), r.u64(o + 16), r.u64(o + 24), r.u64(o + 32))
        for o in range(off + 4, off + 4 + 40 * n, 40)
    )
    return tiers, off + 4 + 40 * n


def decode_pump_fee_config(data: bytes, owner: object = None) -> PumpFeeConfig:
    """pump_fees ``FeeConfig`` (owner: the fee program); ``stable_fee_tiers`` empty in
    accounts older than it."""
    r = check(data, "FeeConfig", FEE_CONFIG_SIZE, DISC_FEE_CONFIG, owner, (FEE_PROGRAM_ID,))
    tiers, end = _fee_tiers(r, 65)
    stable = _fee_tiers(r, end)[0] if len(r.data) >= end + 4 else ()
    return PumpFeeConfig(r.u8(8), r.key(9), (r.u64(41), r.u64(49), r.u64(57)), tiers, stable)


Fees = tuple[int, int, int]


def fee_tier(tiers: tuple[tuple[int, int, int, int], ...], market_cap: int) -> Fees | None:
    """pump-fees-math ``calculate_fee_tier`` (docs/FEE_PROGRAM_README.md): the first tier
    below its threshold, else the last tier the market cap reaches; None for no tiers."""
    if not tiers:
        return None
    first = tiers[0]
    if market_cap < first[0]:
        return first[1:]
    for t in reversed(tiers):
        if market_cap >= t[0]:
            return t[1:]
    return first[1:]


def pool_fees(
    cfg: PumpFeeConfig, canonical: bool, rec: PumpAmmPool, reserves: tuple[int, int], supply: int
) -> Fees | None:
    """The rates a swap on the pool pays (see the Rust ``pool_fees``)."""
    if canonical:
        circulating = MAYHEM_SUPPLY if rec.is_mayhem_mode else supply
        cap = reserves[1] * circulating // max(reserves[0], 1)
        stable = rec.quote_mint == USDC and cfg.stable_fee_tiers
        got = fee_tier(cfg.stable_fee_tiers if stable else cfg.fee_tiers, cap)
        if got is None:
            return None
        fees = got
    else:
        fees = cfg.flat_fees
    if rec.coin_creator == ZERO_KEY:
        fees = (fees[0], fees[1], 0)
    return fees


def parse_event(raw: bytes) -> PumpSwapEvent | None:
    """Its ``BuyEvent`` or ``SellEvent`` when the discriminator is one of those."""
    head = raw[:8]
    if head == DISC_BUY_EVENT:
        buy, what = True, "BuyEvent"
    elif head == DISC_SELL_EVENT:
        buy, what = False, "SellEvent"
    else:
        return None
    if len(raw) < EVENT_HEAD:
        raise AccountTooShortError(f"{what}: {len(raw)} bytes, needs {EVENT_HEAD}")
    r = Reader(raw, what)
    ts = int.from_bytes(raw[8:16], "little", signed=True)
    amounts = [r.u64(16 + 8 * i) for i in range(13)]
    creator: tuple[int, ...] = ()
    if len(raw) >= EVENT_HEAD + 6 * 32 + 16:
        creator = (r.u64(EVENT_HEAD + 6 * 32), r.u64(EVENT_HEAD + 6 * 32 + 8))
    return PumpSwapEvent(buy, ts, *amounts, r.key(120), *creator)  # type: ignore[arg-type, call-arg]


parse_log = base.no_log


# eng.pump_amm, its public namespace (Venue.API): a public name, then its definition
API = base.api(
    """
    decode_pool           decode_pump_amm_pool
    decode_global_config  decode_pump_amm_global_config
    decode_fee_config     decode_pump_fee_config
    swap                  pump_swap
    """
)


# its pool account's identity (bump, index, creator, mints, LP mint, vaults and the coin
# creator), a field a line, its mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    pool_bump
    index
    creator
    base_mint                 mint_a
    quote_mint                mint_b
    lp_mint
    pool_base_token_account   vault_a
    pool_quote_token_account  vault_b
    coin_creator
    """
)


def followed(rec: PumpAmmPool) -> tuple[tuple[str, str], ...]:
    """The ``GlobalConfig`` and the ``FeeConfig`` at their PDAs (the pool account does not
    name them), and its base mint."""
    return (
        (GLOBAL_CONFIG, GLOBAL_CONFIG_ID),
        (FEE_CONFIG, FEE_CONFIG_ID),
        (BASE_MINT, rec.base_mint),
    )


@dataclass(slots=True)
class Config:
    """What the ingest keeps of a PumpSwap pool's own accounts: the ``GlobalConfig``'s
    disable flags, the ``FeeConfig``, the base mint's supply, once seen; and whether the
    pool is a canonical Pump pool (for its creator and base mint: a PDA, derived once)."""

    flags: int | None = None
    fee_config: PumpFeeConfig | None = None
    supply: int | None = None
    canonical: tuple[str, str, bool] | None = None


def new_own() -> Config:
    return Config()


forget = absent = base.no_arrays


def own_account(own: Config, role: str, cx: OwnAccount) -> None:
    if role == GLOBAL_CONFIG:
        own.flags = decode_pump_amm_global_config(cx.data, cx.owner).disable_flags
    elif role == FEE_CONFIG:
        own.fee_config = decode_pump_fee_config(cx.data, cx.owner)
    elif role == BASE_MINT:
        own.supply = decode_mint(cx.data, cx.owner).supply
    else:
        raise no_role(INFO, role)


check_own_account = base.checks_of(new_own, own_account)


def pump_pool_authority(base_mint: str) -> str:
    """The Pump program's pool authority of a mint (the creator of canonical pools):
    ``["pool-authority", base_mint]`` under the Pump program."""
    from ..b58 import b58decode

    return find_program_address([b"pool-authority", b58decode(base_mint)], PUMP_PROGRAM_ID)[0]


def _fee(amount: int, bps: int) -> int:
    """``⌈amount·bps / 10 000⌉``, the SDK's ``fee``."""
    return -(-(amount * bps) // BPS_DEN)


@dataclass(frozen=True, slots=True)
class PumpState:
    """A PumpSwap pool's quote state: reserves, the fee rates a swap pays (the
    creator's already 0 without a coin creator) and the disable flags."""

    base_reserve: int
    quote_reserve: int  # the vault plus the pool's virtual quote reserves
    lp_fee_bps: int
    protocol_fee_bps: int
    creator_fee_bps: int
    disable_flags: int
    real_quote: int  # the vault: a sell takes out at most this

    @staticmethod
    def checked(
        pool_id: str,
        base_reserve: int,
        quote_reserve: int,
        bps: tuple[int, int, int],
        disable_flags: int,
    ) -> PumpState:
        if base_reserve == 0 or quote_reserve == 0:
            raise InvalidInputError(
                f"pool {pool_id}: zero reserve ({base_reserve}, {quote_reserve})"
            )
        lp, protocol, creator = bps
        if lp + protocol + creator >= BPS_DEN:
            raise InvalidInputError(
                f"pool {pool_id}: fees {lp} + {protocol} + {creator} bps must be below 10000"
            )
        return PumpState(
            base_reserve, quote_reserve, lp, protocol, creator, disable_flags, quote_reserve
        )

    def _total(self) -> int:
        return self.lp_fee_bps + self.protocol_fee_bps + self.creator_fee_bps

    def _fees(self, amount: int) -> int:
        return (
            _fee(amount, self.lp_fee_bps)
            + _fee(amount, self.protocol_fee_bps)
            + _fee(amount, self.creator_fee_bps)
        )

    def sell(self, base_in: int) -> int | None:
        """``sell``: quote out for ``base_in``; None when fees exceed the output or
        sells are disabled; 0 for 0."""
        if base_in == 0:
            return 0
        if self.disable_flags & DISABLE_SELL:
            return None
        gross = self.quote_reserve * base_in // (self.base_reserve + base_in)
        if gross - _fee(gross, self.lp_fee_bps) > self.real_quote:
            return None  # more than the vault holds
        out = gross - self._fees(gross)
        return out if out >= 0 else None

    def buy(self, quote_in: int) -> int | None:
        """``buy_exact_quote_in``: base out for ``quote_in`` spent, fees included; None
        when the budget does not cover the fees or buys are disabled; 0 for 0."""
        if quote_in == 0:
            return 0
        if self.disable_flags & DISABLE_BUY:
            return None
        net = quote_in * BPS_DEN // (BPS_DEN + self._total())
        if net == 0:
            return None
        spent = net + self._fees(net)
        if spent > quote_in:
            net -= spent - quote_in
            if net <= 0:
                return None  # the budget does not cover the fees
        x = net - 1
        return self.base_reserve * x // (self.quote_reserve + x)

    def spot_rate(self, a_to_b: bool) -> float:
        """Output per input after the fees at zero size (Rust's float operations)."""
        den = float(BPS_DEN)
        total = float(self._total())
        if a_to_b:
            return (float(self.quote_reserve) / float(self.base_reserve)) * ((den - total) / den)
        return (float(self.base_reserve) / float(self.quote_reserve)) * (den / (den + total))


def update(own: Config, rec: PumpAmmPool, cx: Assembly) -> tuple[PumpState, int] | None:
    """Reserves = the vaults (the quote's plus its virtual reserves); the fee rates of
    :func:`pool_fees` (the market cap at these
    reserves picks the tier of a canonical pool)."""
    va, vb = cx.vaults
    if va is None or vb is None:
        return None
    flags, cfg, supply = own.flags, own.fee_config, own.supply
    if flags is None or cfg is None or supply is None:
        return None
    c = own.canonical
    if c is not None and c[:2] == (rec.creator, rec.base_mint):
        canonical = c[2]
    else:
        canonical = pump_pool_authority(rec.base_mint) == rec.creator
        own.canonical = (rec.creator, rec.base_mint, canonical)
    quote = max(vb + rec.virtual_quote_reserves, 0)
    if quote > U64_MAX:
        raise InvalidInputError(
            f"pool {cx.pool_id}: quote reserve {vb} + virtual {rec.virtual_quote_reserves} "
            "is past u64"
        )
    fees = pool_fees(cfg, canonical, rec, (va, quote), supply)
    if fees is None:
        raise InvalidInputError(f"pool {cx.pool_id}: the FeeConfig has no fee tiers")
    slot = cx.slot()
    cx.check_ids()
    state = PumpState.checked(cx.pool_id, va, quote, fees, flags)
    return replace(state, real_quote=vb), slot


def quote(state: PumpState, amount: int, a_to_b: bool) -> int | None:
    return state.sell(amount) if a_to_b else state.buy(amount)


def spot_rate(state: PumpState, a_to_b: bool) -> float:
    return state.spot_rate(a_to_b)


@dataclass(frozen=True, slots=True)
class PumpLeg:
    """A PumpSwap hop of a cycle: ``a_to_b`` (sell) or b -> a (buy)."""

    pool: PumpState
    a_to_b: bool

    def spot_rate(self) -> float:
        return self.pool.spot_rate(self.a_to_b)

    def amount_out(self, amount: int) -> int | None:
        return quote(self.pool, amount, self.a_to_b)

    def amount_steps(self, amount: int) -> tuple[int, int] | None:
        """:meth:`amount_out` and its steps: none (its use does not grow with the swap)."""
        out = quote(self.pool, amount, self.a_to_b)
        return None if out is None else (out, 0)

    def constant_product(self) -> None:
        """Not the engine's constant product (the fees are not one fraction of the
        input): sizing searches over exact swaps."""
        return None


def leg(state: PumpState, a_to_b: bool) -> PumpLeg:
    return PumpLeg(state, a_to_b)


def pump_swap(
    base_reserve: int,
    quote_reserve: int,
    lp_fee_bps: int,
    protocol_fee_bps: int,
    creator_fee_bps: int,
    amount: int,
    a_to_b: bool,
) -> int | None:
    """One PumpSwap swap, exact in: ``sell`` (base in, ``a_to_b``) or
    ``buy_exact_quote_in`` (quote in); None when the program would refuse it."""
    args = (base_reserve, quote_reserve, lp_fee_bps, protocol_fee_bps, creator_fee_bps, amount)
    b, q, lp, pf, cf, x = (u64(v) for v in args)
    if not isinstance(a_to_b, bool):
        raise TypeError(f"a_to_b: expected bool, got {type(a_to_b).__name__}")
    s = PumpState.checked("pump_swap", b, q, (lp, pf, cf), 0)
    return s.sell(x) if a_to_b else s.buy(x)

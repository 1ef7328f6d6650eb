"""Raydium CLMM (twin of ``crates/core/src/venues/raydium_clmm/`` and its ``math``
submodule): the ``PoolState``, ``AmmConfig``, ``TickArrayState`` and
``TickArrayBitmapExtension`` accounts, its exact-input quotes through the program's own
swap and its Anchor ``SwapEvent``. Layouts and math from raydium-io/raydium-clmm
``programs/amm/src/`` (commit 03b44b7): ``states/``, ``libraries/{tick_math,
sqrt_price_math,liquidity_math,swap_math}.rs``, ``instructions/swap.rs``.

It is not Orca's math: its own tick math (``MAX_SQRT_PRICE_X64`` differs), a step stops
only at initialized ticks and fails when none is left in the swap's direction
(``LiquidityInsufficient``), the fee is on the input or the output as ``fee_on`` says,
and crossing a tick going down sets the current tick to ``tick - 1``.

The held range: the pool's bitmaps say which tick arrays hold initialized ticks; the
quote state knows the range in which it holds every initialized array, and a swap that
needs a tick past it raises :class:`TicksMissingError` (``quote_checked``), never a
number computed as if the missing arrays were empty.

Refused with a reason, never a wrong number: a pool with a dynamic fee (its
``DynamicFeeInfo`` set) and a swap reaching a tick with limit orders (their matching is
not reproduced); a pool whose swaps are disabled has no quote (``NotApproved``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ...decoded import (
    RaydiumClmmBitmapExtension,
    RaydiumClmmConfig,
    RaydiumClmmPool,
    RaydiumClmmSwap,
    RaydiumClmmSwapEvent,
    RaydiumClmmTickArray,
)
from ...errors import (
    EngineError,
    InsufficientLiquidityError,
    InvalidInputError,
    InvalidTickError,
    MathOverflowError,
    TicksMissingError,
)
from ...records import VenueInfo
from .._ints import U128_MAX, i32, i64, u64, u128
from ..decode import Reader, check
from . import base
from .base import Assembly, OwnAccount, no_role
from .exact import ExactSwaps
from .ticks import MIN_SQRT_PRICE_X64 as MIN_SQRT_PRICE_X64
from .ticks import array_starts, checked_ticks, crossed_ticks

PROGRAM_ID = "CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK"
DISC_POOL = bytes([247, 237, 227, 245, 215, 195, 222, 70])  # = CP-Swap's: check the owner
DISC_CONFIG = bytes([218, 244, 33, 104, 203, 203, 43, 111])  # = CP-Swap's
DISC_TICK_ARRAY = bytes([192, 155, 85, 205, 49, 249, 129, 42])
DISC_BITMAP_EXTENSION = bytes([60, 150, 36, 219, 97, 128, 139, 153])
DISC_SWAP_EVENT = bytes([64, 198, 205, 232, 38, 8, 113, 226])  # = CP-Swap's
POOL_SIZE = 1544
CONFIG_SIZE = 117
TICK_ARRAY_LEN = 10240
BITMAP_EXTENSION_SIZE = 1832
SWAP_EVENT_MIN = 205  # 221 with trade_fee_0/1
_TICK_LEN = 168
_EXT_WORDS = 14 * 8
CONFIG = "config"
TICK_ARRAY = "tick_array"
BITMAP_EXTENSION = "bitmap_extension"
STATUS_SWAP_DISABLED = 1 << 4
_OWNERS = (PROGRAM_ID,)

MIN_TICK = -443_636
MAX_TICK = 443_636
MAX_SQRT_PRICE_X64 = 79_226_673_521_066_979_257_578_248_091
TICK_ARRAY_SIZE = 60
FEE_RATE_DENOMINATOR = 1_000_000
# the initialized tick arrays arbscope's swap_v2 names (feeds/venues/raydium_clmm/
# instructions.py): a quote of a swap that reads more is refused, as the program refuses
# the swap
SWAP_TICK_ARRAYS = 3
HAS_LIQUIDITY = 1
HAS_LIMIT_ORDERS = 2
_U64_MAX = (1 << 64) - 1

LOG_PREFIX: str | None = None
ARRAYS: str | None = TICK_ARRAY
OWN_ROLES = base.own_roles(ARRAYS, CONFIG, TICK_ARRAY, BITMAP_EXTENSION)
INFO = VenueInfo("raydium_clmm", "clmm", "clmm", "clmm", _OWNERS, POOL_SIZE, ARRAYS)


# ------------------------------------------------------------------ accounts
def decode_raydium_clmm(data: bytes, owner: object = None) -> RaydiumClmmPool:
    """Raydium CLMM ``PoolState`` (1,544 bytes)."""
    r = check(data, "PoolState", POOL_SIZE, DISC_POOL, owner, _OWNERS)
    fields = [
        *r.packed(8, "u8 key*7 u8*2 u16 u128*2 i32 _4 u128*2 u64*2 _64 u8*2"),
        tuple(r.u64(904 + 8 * i) for i in range(16)),
        *r.packed(1064, "u64*4"),
        any(r.data[1096:1176]),
    ]
    return RaydiumClmmPool(*fields)


decode = decode_raydium_clmm  # the pool account's decoder


def decode_raydium_clmm_config(data: bytes, owner: object = None) -> RaydiumClmmConfig:
    """Raydium CLMM ``AmmConfig`` (117 bytes)."""
    r = check(data, "AmmConfig", CONFIG_SIZE, DISC_CONFIG, owner, _OWNERS)
    return RaydiumClmmConfig(*r.packed(8, "u8 u16 key u32*2 u16 u32 _4 key"))


def decode_raydium_clmm_tick_array(data: bytes, owner: object = None) -> RaydiumClmmTickArray:
    """Raydium CLMM ``TickArrayState`` (10,240 bytes): its initialized ticks."""
    r = check(data, "TickArrayState", TICK_ARRAY_LEN, DISC_TICK_ARRAY, owner, _OWNERS)
    ticks = []
    for i in range(TICK_ARRAY_SIZE):
        off = 44 + _TICK_LEN * i
        gross, orders, part = r.u128(off + 20), r.u64(off + 124), r.u64(off + 132)
        if gross or orders or part:
            ticks.append((i, r.i32(off), r.i128(off + 4), gross, orders, part))
    return RaydiumClmmTickArray(r.key(8), r.i32(40), r.u8(10124), tuple(ticks))


def decode_raydium_clmm_bitmap_extension(
    data: bytes, owner: object = None
) -> RaydiumClmmBitmapExtension:
    """Raydium CLMM ``TickArrayBitmapExtension`` (1,832 bytes)."""
    r = check(
        data,
        "TickArrayBitmapExtension",
        BITMAP_EXTENSION_SIZE,
        DISC_BITMAP_EXTENSION,
        owner,
        _OWNERS,
    )
    pos = tuple(r.u64(40 + 8 * i) for i in range(_EXT_WORDS))
    neg = tuple(r.u64(40 + 8 * _EXT_WORDS + 8 * i) for i in range(_EXT_WORDS))
    return RaydiumClmmBitmapExtension(r.key(8), pos, neg)


def parse_event(raw: bytes) -> RaydiumClmmSwapEvent | None:
    """Its ``SwapEvent`` when the discriminator is that; None otherwise (the log path
    hands it only lines its program emitted: CP-Swap's has the same discriminator)."""
    if raw[:8] != DISC_SWAP_EVENT or len(raw) < SWAP_EVENT_MIN:
        # shorter than its oldest form (205 bytes): not one of its events (CP-Swap's
        # SwapEvent, 89 or 170 bytes, has the same discriminator)
        return None
    r = Reader(raw, "event")
    fees = (r.u64(205), r.u64(213)) if len(raw) >= SWAP_EVENT_MIN + 16 else (None, None)
    return RaydiumClmmSwapEvent(
        *r.packed(8, "key*4 u64*4 flag u128*2 i32"),
        *fees,
    )


parse_log = base.no_log


# eng.raydium_clmm, its public namespace (Venue.API): a public name, then its definition
API = base.api(
    """
    decode_pool              decode_raydium_clmm
    decode_config            decode_raydium_clmm_config
    decode_tick_array        decode_raydium_clmm_tick_array
    decode_bitmap_extension  decode_raydium_clmm_bitmap_extension
    swap                     raydium_clmm_swap
    swap_ledger              raydium_clmm_swap_ledger
    address                  raydium_clmm_address
    sqrt_price_at_tick       raydium_clmm_sqrt_price_at_tick
    tick_at_sqrt_price       raydium_clmm_tick_at_sqrt_price
    tick_array_starts        raydium_clmm_tick_array_starts
    """
)


# ------------------------------------------------------------------ PDAs
def _find(parts: list[bytes]) -> tuple[str, int]:
    from ..derive import find_program_address

    return find_program_address(parts, PROGRAM_ID)


def _key(obj: object, what: str) -> bytes:
    from ..derive import _id32

    return _id32(obj, what)


def raydium_clmm_address(kind: str, *args: object) -> tuple[str, int]:
    """The Raydium CLMM PDA of ``kind`` as (address, bump): ``pool`` (config, mint_0,
    mint_1), ``vault`` (pool, mint), ``observation`` (pool), ``bitmap_extension`` (pool),
    ``tick_array`` (pool, start: i32 big-endian in the seeds), ``amm_config`` (index:
    u16 big-endian)."""
    want = {
        "pool": 3,
        "vault": 2,
        "tick_array": 2,
        "observation": 1,
        "bitmap_extension": 1,
        "amm_config": 1,
    }.get(kind)
    if want is None:
        raise InvalidInputError(f"no Raydium CLMM address kind {kind!r}")
    if len(args) != want:
        raise InvalidInputError(f"{kind} takes {want} seeds, got {len(args)}")
    if kind == "pool":
        c, m0, m1 = _key(args[0], "config"), _key(args[1], "mint_0"), _key(args[2], "mint_1")
        return _find([b"pool", c, m0, m1])
    if kind == "vault":
        p, m = _key(args[0], "pool"), _key(args[1], "mint")
        return _find([b"pool_vault", p, m])
    if kind == "observation":
        return _find([b"observation", _key(args[0], "pool")])
    if kind == "bitmap_extension":
        return _find([b"pool_tick_array_bitmap_extension", _key(args[0], "pool")])
    if kind == "tick_array":
        p = _key(args[0], "pool")
        start = i32(args[1])
        return _find([b"tick_array", p, start.to_bytes(4, "big", signed=True)])
    index = u64(args[0])
    if index > 0xFFFF:
        raise MathOverflowError(f"{index} does not fit in u16")
    return _find([b"amm_config", index.to_bytes(2, "big")])


def raydium_clmm_tick_array_starts(
    tick_spacing: int, center_tick: int, arrays_each_side: int
) -> list[int]:
    """Start indices of the tick array holding ``center_tick`` and ``arrays_each_side``
    arrays on each side (60 ticks per array)."""
    tick_spacing, center_tick, arrays_each_side = (
        i64(tick_spacing),
        i64(center_tick),
        i64(arrays_each_side),
    )
    return array_starts(TICK_ARRAY_SIZE, tick_spacing, center_tick, arrays_each_side)


# ------------------------------------------------------------------ math
class Fail(Exception):
    """A program error (its name) or a refusal, cheap to carry through the swap."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


_FACTORS = (
    0xFFF97272373D4000,
    0xFFF2E50F5F657000,
    0xFFE5CACA7E10F000,
    0xFFCB9843D60F7000,
    0xFF973B41FA98E800,
    0xFF2EA16466C9B000,
    0xFE5DEE046A9A3800,
    0xFCBE86C7900BB000,
    0xF987A7253AC65800,
    0xF3392B0822BB6000,
    0xE7159475A2CAF000,
    0xD097F3BDFD2F2000,
    0xA9F746462D9F8000,
    0x70D869A156F31C00,
    0x31BE135F97ED3200,
    0x09AA508B5B85A500,
    0x005D6AF8DEDC582C,
    0x00002216E584F5FA,
)


def sqrt_price_at_tick(tick: int) -> int:
    """``get_sqrt_price_at_tick`` (Fail ``TickUpperOverflow`` out of range)."""
    if not MIN_TICK <= tick <= MAX_TICK:
        raise Fail("TickUpperOverflow")
    a = abs(tick)
    ratio = 0xFFFCB933BD6FB800 if a & 1 else 1 << 64
    for i, f in enumerate(_FACTORS):
        if a & (2 << i):
            ratio = (ratio * f) >> 64
    if tick > 0:
        ratio = U128_MAX // ratio
    return ratio


def tick_at_sqrt_price(sqrt_price_x64: int) -> int:
    """``get_tick_at_sqrt_price`` (Fail ``SqrtPriceX64`` outside [MIN, MAX))."""
    if not MIN_SQRT_PRICE_X64 <= sqrt_price_x64 < MAX_SQRT_PRICE_X64:
        raise Fail("SqrtPriceX64")
    msb = sqrt_price_x64.bit_length() - 1
    log2p_integer_x32 = (msb - 64) << 32
    bit = 0x8000_0000_0000_0000
    precision = 0
    frac = 0
    r = sqrt_price_x64 >> (msb - 63) if msb >= 64 else sqrt_price_x64 << (63 - msb)
    while bit > 0 and precision < 16:
        r *= r
        more = r >> 127
        r >>= 63 + more
        frac += bit * more
        bit >>= 1
        precision += 1
    log2p_x32 = log2p_integer_x32 + (frac >> 32)
    x = log2p_x32 * 59_543_866_431_248
    lo = _i32_wrap((x - 184_467_440_737_095_516) >> 64)
    hi = _i32_wrap((x + 15_793_534_762_490_258_745) >> 64)
    if lo == hi:
        return lo
    return hi if sqrt_price_at_tick(hi) <= sqrt_price_x64 else lo


def _i32_wrap(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def delta_amounts(a: int, b: int, liquidity: int, zero_for_one: bool) -> tuple[int, int]:
    """``get_delta_amounts_for_swap``: (in rounded up, out rounded down); Fail
    ``MaxTokenOverflow`` past u64."""
    lo, hi = (b, a) if a > b else (a, b)
    if lo == 0:
        raise Fail("CalculateOverflow")
    x = liquidity * (hi - lo)
    d = lo * hi
    if zero_for_one:
        amount_in, amount_out = -((-x << 64) // d), x >> 64
    else:
        amount_in, amount_out = (x + _U64_MAX) >> 64, (x << 64) // d
    if amount_in > _U64_MAX or amount_out > _U64_MAX:
        raise Fail("MaxTokenOverflow")
    return amount_in, amount_out


def next_sqrt_price_from_input(sqrt_price: int, liquidity: int, amount: int, zfo: bool) -> int:
    """``get_next_sqrt_price_from_input``."""
    if not MIN_SQRT_PRICE_X64 <= sqrt_price < MAX_SQRT_PRICE_X64:
        raise Fail("SqrtPriceX64")
    if liquidity == 0:
        raise Fail("ZeroLiquidity")
    if amount == 0:
        return sqrt_price
    if zfo:
        n1 = liquidity << 64
        return -((-n1 * sqrt_price) // (n1 + amount * sqrt_price))
    nxt = sqrt_price + (amount << 64) // liquidity
    if nxt > U128_MAX:
        raise Fail("CalculateOverflow")
    return nxt


def _mul_div(a: int, b: int, d: int, ceil: bool) -> int:
    if d == 0:
        raise Fail("CalculateOverflow")
    q = -((-a * b) // d) if ceil else a * b // d
    if q > _U64_MAX:
        raise Fail("CalculateOverflow")
    return q


def compute_swap_step(
    current: int,
    target: int,
    liquidity: int,
    remaining: int,
    fee_rate: int,
    zfo: bool,
    fee_on_input: bool,
) -> tuple[int, int, int, int]:
    """``swap_math::compute_swap``, exact input: (next price, in, out, fee)."""
    rest = max(FEE_RATE_DENOMINATOR - fee_rate, 0)
    for_price = (
        _mul_div(remaining, rest, FEE_RATE_DENOMINATOR, False) if fee_on_input else remaining
    )
    reach: tuple[int, int] | None
    try:
        i, o = delta_amounts(target, current, liquidity, zfo)
        reach = (i, o) if for_price >= i else None
    except Fail as f:
        if f.name != "MaxTokenOverflow":
            raise
        reach = None
    if reach is not None:
        nxt, amount_in, amount_out = target, reach[0], reach[1]
    else:
        nxt = next_sqrt_price_from_input(current, liquidity, for_price, zfo)
        amount_in, amount_out = delta_amounts(nxt, current, liquidity, zfo)
    if (zfo and nxt < target) or (not zfo and target < nxt):
        raise Fail("RequireViolated")
    if fee_on_input:
        if nxt != target:
            fee = remaining - amount_in
            if fee < 0:
                raise Fail("CalculateOverflow")
        else:
            fee = _mul_div(amount_in, fee_rate, rest, True)
    else:
        fee = _mul_div(amount_out, fee_rate, FEE_RATE_DENOMINATOR, True)
        amount_out -= fee
        if amount_out < 0:
            raise Fail("CalculateOverflow")
        if nxt != target:
            amount_in = remaining
    return nxt, amount_in, amount_out, fee


def raydium_clmm_sqrt_price_at_tick(tick: int) -> int:
    """The program's ``get_sqrt_price_at_tick`` (InvalidTickError out of range)."""
    try:
        return sqrt_price_at_tick(i32(tick))
    except Fail as f:
        raise fail_error(f) from None


def raydium_clmm_tick_at_sqrt_price(sqrt_price_x64: int) -> int:
    """The program's ``get_tick_at_sqrt_price`` (InvalidTickError out of range)."""
    try:
        return tick_at_sqrt_price(u128(sqrt_price_x64))
    except Fail as f:
        raise fail_error(f) from None


def _add_delta(x: int, y: int) -> int:
    if y < 0:
        z = x + y
        if z < 0 or not z < x:
            raise Fail("LiquiditySubValueErr")
        return z
    z = x + y
    if z > U128_MAX:
        raise Fail("LiquidityAddValueErr")
    return z


@dataclass(frozen=True, slots=True)
class Pool:
    """The swap-relevant state of a pool: its ``PoolState`` fields and its config's
    trade fee rate (per 1,000,000); ``fee_on`` 0 input, 1 token 0, 2 token 1."""

    sqrt_price_x64: int
    liquidity: int
    tick_current: int
    tick_spacing: int
    fee_rate: int
    fee_on: int

    def fee_on_input(self, zfo: bool) -> bool:
        return zfo if self.fee_on == 1 else (not zfo) if self.fee_on == 2 else True


Ticks = tuple[tuple[int, int, int], ...]  # (index, liquidity_net, flags), sorted


def array_start(tick: int, tick_spacing: int) -> int:
    n = TICK_ARRAY_SIZE * max(tick_spacing, 1)
    return tick // n * n


@dataclass(slots=True)
class Ledger:
    """The program's bookkeeping of a swap's trade fee and the ticks it crossed
    (``SwapState::spilt_fees`` and ``TickState::cross``; the Rust ``math::Ledger``): per
    step, the protocol's and the fund's parts of the fee (each ``fee * rate // 1e6``),
    the rest to the liquidity providers as fee growth (``rest << 64 // liquidity``,
    wrapping), or to the protocol when the step had no liquidity; every tick crossed
    with its liquidity, with the growth as it stood then (that step's included)."""

    protocol_fee_rate: int
    fund_fee_rate: int
    lp_fee: int = 0
    protocol_fee: int = 0
    fund_fee: int = 0
    fee_growth_x64: int = 0
    crossings: list[tuple[int, int]] = field(default_factory=list)

    def split(self, fee: int, liquidity: int) -> None:
        protocol = fee * self.protocol_fee_rate // FEE_RATE_DENOMINATOR
        fund = fee * self.fund_fee_rate // FEE_RATE_DENOMINATOR
        self.protocol_fee = _add64(self.protocol_fee, protocol)
        self.fund_fee = _add64(self.fund_fee, fund)
        rest = fee - protocol - fund
        if rest < 0:
            raise Fail("CalculateOverflow")
        if liquidity > 0:
            self.fee_growth_x64 = (self.fee_growth_x64 + (rest << 64) // liquidity) & U128_MAX
            self.lp_fee = _add64(self.lp_fee, rest)
        else:
            self.protocol_fee = _add64(self.protocol_fee, rest)


def _add64(a: int, b: int) -> int:
    if a + b > _U64_MAX:
        raise Fail("CalculateOverflow")
    return a + b


def swap_exact_in(
    pool: Pool,
    ticks: Ticks,
    complete: tuple[int | None, int | None],
    amount: int,
    zfo: bool,
    ledger: Ledger | None = None,
    max_arrays: int | None = None,
) -> RaydiumClmmSwap:
    """The program's exact-input swap without a price limit (see the Rust ``math``
    module): Fail with the program's error name, or ``TicksMissing``; the program's fee
    bookkeeping kept in ``ledger`` when given; ``NotEnoughTickArrayAccount`` when it
    reads more than ``max_arrays`` initialized tick arrays (the current tick's when it
    holds an initialized tick, then the array of every tick it targets)."""
    if amount == 0:
        raise Fail("ZeroAmountSpecified")
    limit = MIN_SQRT_PRICE_X64 + 1 if zfo else MAX_SQRT_PRICE_X64 - 1
    if not (limit < pool.sqrt_price_x64 if zfo else limit > pool.sqrt_price_x64):
        raise Fail("SqrtPriceLimitOverflow")
    if not MIN_TICK <= pool.tick_current <= MAX_TICK:
        raise Fail("TickUpperOverflow")
    lo_edge, hi_edge = complete
    fee_on_input = pool.fee_on_input(zfo)
    remaining, calculated, fees = amount, 0, 0
    sqrt, tick, liquidity = pool.sqrt_price_x64, pool.tick_current, pool.liquidity
    nxt = _partition(ticks, tick)
    first = True
    current = array_start(tick, pool.tick_spacing)
    width = TICK_ARRAY_SIZE * max(pool.tick_spacing, 1)
    j = _partition_lt(ticks, current)
    read, last_read = (
        (1, current) if j < len(ticks) and ticks[j][0] < current + width else (0, None)
    )
    while remaining != 0 and sqrt != limit:
        cand: tuple[int, int, int] | None = None
        if zfo:
            if nxt > 0:
                nxt -= 1
                cand = ticks[nxt]
        elif nxt < len(ticks):
            cand = ticks[nxt]
            nxt += 1
        edge = lo_edge if zfo else hi_edge
        at_edge = False
        if cand is None or (edge is not None and (cand[0] < edge if zfo else cand[0] >= edge)):
            if edge is not None:
                # no known tick before the edge: a step may go up to it, not past it
                if (zfo and edge > tick) or (not zfo and edge <= tick):
                    raise Fail("TicksMissing")
                cand, at_edge = (edge, 0, 0), True
            else:
                start = array_start(pool.tick_current, pool.tick_spacing)
                end = start + TICK_ARRAY_SIZE * max(pool.tick_spacing, 1)
                j = _partition_lt(ticks, start)
                used = j < len(ticks) and ticks[j][0] < end
                raise Fail(
                    "InsufficientLiquidityForDirection"
                    if first and not used
                    else "LiquidityInsufficient"
                )
        first = False
        t_index, t_net, t_flags = cand
        if max_arrays is not None and not at_edge:
            a = array_start(t_index, pool.tick_spacing)
            if a != last_read:
                read, last_read = read + 1, a
                if read > max_arrays:
                    raise Fail("NotEnoughTickArrayAccount")
        tick_next = min(max(t_index, MIN_TICK), MAX_TICK)
        sqrt_next = sqrt_price_at_tick(tick_next)
        target = limit if (sqrt_next < limit if zfo else sqrt_next > limit) else sqrt_next
        if zfo:
            consistent = tick >= tick_next and sqrt >= sqrt_next and sqrt >= target
        else:
            consistent = tick_next > tick and sqrt_next >= sqrt and target >= sqrt
        if not consistent:
            raise Fail("RequireViolated")
        liquidity_next = liquidity
        if sqrt != target:
            step, a_in, a_out, fee = compute_swap_step(
                sqrt, target, liquidity, remaining, pool.fee_rate, zfo, fee_on_input
            )
            consumed = a_in + fee if fee_on_input else a_in
            if consumed > _U64_MAX or consumed > remaining:
                raise Fail("CalculateOverflow")
            remaining -= consumed
            calculated += a_out
            fees += fee
            if calculated > _U64_MAX or fees > _U64_MAX:
                raise Fail("CalculateOverflow")
            if ledger is not None:
                ledger.split(fee, liquidity)
        else:
            step = target
        if at_edge and sqrt_next == step:
            raise Fail("TicksMissing")  # the next tick is past what is known
        if sqrt_next == step:
            if t_flags & HAS_LIMIT_ORDERS:
                raise Fail("LimitOrders")
            if t_flags & HAS_LIQUIDITY:
                net = -t_net if zfo else t_net
                if net > (1 << 127) - 1:
                    raise Fail("CalculateOverflow")
                liquidity_next = _add_delta(liquidity, net)
                if ledger is not None:
                    ledger.crossings.append((t_index, ledger.fee_growth_x64))
            tick = tick_next - 1 if zfo else tick_next
        elif sqrt != step:
            tick = tick_at_sqrt_price(step)
        sqrt = step
        liquidity = liquidity_next
    consumed = amount - remaining
    if consumed == 0 or calculated == 0:
        raise Fail("TooSmallInputOrOutputAmount")
    return RaydiumClmmSwap(consumed, calculated, fees, sqrt, tick, liquidity)


def _partition(ticks: Ticks, tick: int) -> int:
    """How many ticks have index <= ``tick``."""
    lo, hi = 0, len(ticks)
    while lo < hi:
        mid = (lo + hi) // 2
        if ticks[mid][0] <= tick:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _partition_lt(ticks: Ticks, tick: int) -> int:
    lo, hi = 0, len(ticks)
    while lo < hi:
        mid = (lo + hi) // 2
        if ticks[mid][0] < tick:
            lo = mid + 1
        else:
            hi = mid
    return lo


def fail_error(f: Fail) -> EngineError:
    """The error of a failed swap, the program's error name first (as the Rust core)."""
    n = f.name
    if n in (
        "LiquidityInsufficient",
        "InsufficientLiquidityForDirection",
        "TooSmallInputOrOutputAmount",
    ):
        return InsufficientLiquidityError(f"{n}: the pool cannot fill the swap")
    if n == "NotEnoughTickArrayAccount":
        return InsufficientLiquidityError(
            f"{n}: the swap reads more than the {SWAP_TICK_ARRAYS} initialized tick arrays "
            "a swap names"
        )
    if n in ("CalculateOverflow", "MaxTokenOverflow", "LiquidityAddValueErr"):
        return MathOverflowError(f"{n}: an amount does not fit its on-chain type")
    if n in ("TickUpperOverflow", "SqrtPriceX64"):
        return InvalidTickError(f"{n}: tick or price out of bounds")
    if n == "TicksMissing":
        return TicksMissingError(f"{n}: the swap steps past the tick arrays held")
    if n == "LimitOrders":
        return InvalidInputError(
            f"{n}: the swap reaches a tick with limit orders, whose matching is not quoted"
        )
    return InvalidInputError(f"{n}: the program refuses this swap")


def sorted_ticks(ticks: list[tuple[int, int, int]]) -> Ticks:
    """Initialized ticks sorted by index; a tick given twice is InvalidTickError."""
    out = sorted(ticks, key=lambda t: t[0])
    for a, b in itertools.pairwise(out):
        if a[0] == b[0]:
            raise InvalidTickError(f"tick {a[0]} appears twice")
    return tuple(out)


def check_params(sqrt_price_x64: int, tick_current: int, tick_spacing: int, fee_rate: int) -> None:
    if tick_spacing == 0:
        raise InvalidInputError("tick_spacing must be > 0")
    if fee_rate > FEE_RATE_DENOMINATOR:
        raise InvalidInputError(f"fee_rate {fee_rate} exceeds 1000000 (units of 1e-6)")
    if not MIN_SQRT_PRICE_X64 <= sqrt_price_x64 < MAX_SQRT_PRICE_X64:
        raise InvalidTickError(
            f"sqrt price {sqrt_price_x64} outside [{MIN_SQRT_PRICE_X64}, {MAX_SQRT_PRICE_X64})"
        )
    if not MIN_TICK <= tick_current <= MAX_TICK:
        raise InvalidTickError(f"tick {tick_current} outside [{MIN_TICK}, {MAX_TICK}]")


def _narrow(v: int, bits: int) -> int:
    if v >= 1 << bits:
        raise MathOverflowError(f"{v} does not fit in u{bits}")
    return v


def raydium_clmm_swap(
    sqrt_price_x64: int,
    liquidity: int,
    tick_current: int,
    tick_spacing: int,
    fee_rate: int,
    fee_on: int,
    ticks: list[tuple[int, int]],
    amount: int,
    zero_for_one: bool,
) -> RaydiumClmmSwap:
    """The Raydium CLMM program's exact-input swap (no price limit) on a pool given by
    its state, its config's ``fee_rate`` (per 1,000,000), its ``fee_on`` (0 the input,
    1 token 0, 2 token 1) and every initialized tick ``(index, liquidity_net)``.
    Errors name the program's error (``LiquidityInsufficient`` ->
    InsufficientLiquidityError, ``CalculateOverflow`` -> MathOverflowError, ...)."""
    # the extension's order: every argument's type and range, then the narrow ints,
    # then the tick list
    sqrt_price_x64, liquidity = u128(sqrt_price_x64), u128(liquidity)
    tick_current = i32(tick_current)
    spacing, rate, on = u64(tick_spacing), u64(fee_rate), u64(fee_on)
    amount = u64(amount)
    if not isinstance(zero_for_one, bool):
        raise TypeError(f"expected bool, got {type(zero_for_one).__name__}")
    tick_spacing, fee_rate, fee_on = _narrow(spacing, 16), _narrow(rate, 32), _narrow(on, 8)
    given = [(t, n, HAS_LIQUIDITY) for t, n in checked_ticks(ticks)]
    check_params(sqrt_price_x64, tick_current, tick_spacing, fee_rate)
    if fee_on > 2:
        raise InvalidInputError(f"fee_on must be 0, 1 or 2, got {fee_on}")
    pool = Pool(sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, fee_on)
    try:
        return swap_exact_in(pool, sorted_ticks(given), (None, None), amount, zero_for_one)
    except Fail as f:
        raise fail_error(f) from None


def raydium_clmm_swap_ledger(
    sqrt_price_x64: int,
    liquidity: int,
    tick_current: int,
    tick_spacing: int,
    fee_rate: int,
    fee_on: int,
    protocol_fee_rate: int,
    fund_fee_rate: int,
    ticks: list[tuple[int, int]],
    amount: int,
    zero_for_one: bool,
) -> tuple[RaydiumClmmSwap, int, int, int, int, list[tuple[int, int]]]:
    """`raydium_clmm.swap` with the program's fee bookkeeping (:class:`Ledger`,
    its config's ``protocol_fee_rate`` and ``fund_fee_rate`` per 1,000,000): ``(swap,
    lp_fee, protocol_fee, fund_fee, fee_growth_x64, crossings)``, ``crossings`` the
    ticks crossed in order, each with the fee growth (this swap's, on the fee's token)
    at that moment. What a simulator writes after the swap; no quote needs it."""
    sqrt_price_x64, liquidity = u128(sqrt_price_x64), u128(liquidity)
    tick_current = i32(tick_current)
    spacing, rate, on = u64(tick_spacing), u64(fee_rate), u64(fee_on)
    protocol, fund = u64(protocol_fee_rate), u64(fund_fee_rate)
    amount = u64(amount)
    if not isinstance(zero_for_one, bool):
        raise TypeError(f"expected bool, got {type(zero_for_one).__name__}")
    tick_spacing, fee_rate, fee_on = _narrow(spacing, 16), _narrow(rate, 32), _narrow(on, 8)
    protocol, fund = _narrow(protocol, 32), _narrow(fund, 32)
    given = [(t, n, HAS_LIQUIDITY) for t, n in checked_ticks(ticks)]
    check_params(sqrt_price_x64, tick_current, tick_spacing, fee_rate)
    if fee_on > 2:
        raise InvalidInputError(f"fee_on must be 0, 1 or 2, got {fee_on}")
    if protocol + fund > FEE_RATE_DENOMINATOR:
        raise InvalidInputError(
            f"protocol_fee_rate {protocol} + fund_fee_rate {fund} exceed 1000000"
        )
    pool = Pool(sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, fee_on)
    ledger = Ledger(protocol, fund)
    try:
        swap = swap_exact_in(pool, sorted_ticks(given), (None, None), amount, zero_for_one, ledger)
    except Fail as f:
        raise fail_error(f) from None
    return (
        swap,
        ledger.lp_fee,
        ledger.protocol_fee,
        ledger.fund_fee,
        ledger.fee_growth_x64,
        ledger.crossings,
    )


# its pool account's identity (bump, config, both mints, both vaults, observation,
# decimals, tick spacing), a field a line, its mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    bump
    amm_config
    token_mint_0     mint_a
    token_mint_1     mint_b
    token_vault_0    vault_a
    token_vault_1    vault_b
    observation_key
    mint_decimals_0
    mint_decimals_1
    tick_spacing
    """
)


@lru_cache(maxsize=65536)
def _extension_of(config: str, mint_0: str, mint_1: str) -> str | None:
    try:
        pool, _ = raydium_clmm_address("pool", config, mint_0, mint_1)
        return raydium_clmm_address("bitmap_extension", pool)[0]
    except EngineError:
        return None


def followed(rec: RaydiumClmmPool) -> tuple[tuple[str, str], ...]:
    """Its config, and (tick spacing below 15) its bitmap extension at its PDA."""
    out = [(CONFIG, rec.amm_config)]
    if rec.tick_spacing < 15:
        ext = _extension_of(rec.amm_config, rec.token_mint_0, rec.token_mint_1)
        if ext is not None:
            out.append((BITMAP_EXTENSION, ext))
    return tuple(out)


@dataclass(slots=True)
class ClmmOwn:
    """What the ingest keeps of a pool's own accounts: its config's rates (trade,
    protocol, fund), its bitmap extension, and per tick-array account its start and
    swap ticks ``(index, liquidity_net, flags)``."""

    rates: tuple[int, int, int] | None = None
    extension: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    arrays: dict[str, tuple[int, list[tuple[int, int, int]]]] = field(default_factory=dict)


def new_own() -> ClmmOwn:
    return ClmmOwn()


def forget(own: ClmmOwn, pubkey: str) -> bool:
    """Forget the array at ``pubkey`` (untracked); False when it was never received."""
    return own.arrays.pop(pubkey, None) is not None


def absent(own: Any, pubkey: str) -> bool:
    """The array at ``pubkey`` does not exist on chain: nothing is kept of it (its program
    reads only the tick arrays its bitmap names), as :func:`forget`."""
    return forget(own, pubkey)


def own_account(own: ClmmOwn, role: str, cx: OwnAccount) -> None:
    if role == CONFIG:
        c = decode_raydium_clmm_config(cx.data, cx.owner)
        own.rates = (c.trade_fee_rate, c.protocol_fee_rate, c.fund_fee_rate)
    elif role == TICK_ARRAY:
        ta = decode_raydium_clmm_tick_array(cx.data, cx.owner)
        base.belongs("tick array", ta.pool_id, cx)
        own.arrays[cx.pubkey] = (ta.start_tick_index, _swap_ticks(ta))
    elif role == BITMAP_EXTENSION:
        e = decode_raydium_clmm_bitmap_extension(cx.data, cx.owner)
        base.belongs("bitmap extension", e.pool_id, cx)
        own.extension = (e.positive, e.negative)
    else:
        raise no_role(INFO, role)


def check_own_account(role: str, cx: OwnAccount) -> None:
    if role == CONFIG:
        decode_raydium_clmm_config(cx.data, cx.owner)
    elif role == TICK_ARRAY:
        base.belongs("tick array", decode_raydium_clmm_tick_array(cx.data, cx.owner).pool_id, cx)
    elif role == BITMAP_EXTENSION:
        e = decode_raydium_clmm_bitmap_extension(cx.data, cx.owner)
        base.belongs("bitmap extension", e.pool_id, cx)
    else:
        raise no_role(INFO, role)


def _swap_ticks(ta: RaydiumClmmTickArray) -> list[tuple[int, int, int]]:
    return [
        (
            tick,
            net,
            (HAS_LIQUIDITY if gross > 0 else 0) | (HAS_LIMIT_ORDERS if orders or part else 0),
        )
        for _, tick, net, gross, orders, part in ta.ticks
    ]


def initialized_starts(
    bitmap: tuple[int, ...],
    extension: tuple[tuple[int, ...], tuple[int, ...]] | None,
    tick_spacing: int,
) -> list[int]:
    """Start indexes of the arrays the pool's bitmap and its extension call initialized."""
    tc = TICK_ARRAY_SIZE * max(tick_spacing, 1)
    out: set[int] = set()
    for w, word in enumerate(bitmap):
        for b in range(64):
            if word >> b & 1:
                out.add((w * 64 + b - 512) * tc)
    if extension is not None:
        pos, neg = extension
        for o in range(14):
            for k in range(512):
                if pos[o * 8 + k // 64] >> (k % 64) & 1:
                    out.add(((o + 1) * 512 + k) * tc)
                if neg[o * 8 + k // 64] >> (k % 64) & 1:
                    out.add(-((o + 2) * 512 - k) * tc)
    return sorted(out)


def complete_range(
    initialized: list[int],
    held: set[int],
    tick_current: int,
    tick_spacing: int,
    extension_known: bool,
) -> tuple[int | None, int | None]:
    """Where the held arrays leave no initialized array out, around the current tick."""
    tc = TICK_ARRAY_SIZE * max(tick_spacing, 1)
    cur = array_start(tick_current, tick_spacing)
    lo: int | None = None
    hi: int | None = None
    for s in initialized:
        if s in held:
            continue
        if s <= cur:
            lo = s + tc if lo is None else max(lo, s + tc)
        if s >= cur:
            hi = s if hi is None else min(hi, s)
    if tick_spacing < 15 and not extension_known:
        edge = 512 * tc
        if cur < -edge or cur >= edge:
            return cur + tc, cur
        lo = -edge if lo is None else max(lo, -edge)
        hi = edge if hi is None else min(hi, edge)
    return lo, hi


@dataclass(frozen=True, slots=True)
class RaydiumClmmState:
    """A pool's quote state: the program's swap state, its ticks, the range they are
    complete in ``(lo, hi)`` (None: to that end), and the reason it refuses every swap
    (``NotApproved``) or None."""

    pool: Pool
    ticks: Ticks
    complete: tuple[int | None, int | None]
    refused: str | None


def update(own: ClmmOwn, rec: RaydiumClmmPool, cx: Assembly) -> tuple[RaydiumClmmState, int] | None:
    """The pool's state with its config's fee, the ticks of every array held and the
    range they are complete in; None until the config is seen."""
    if own.rates is None:
        return None
    slot = cx.slot()
    cx.check_ids()
    trade, protocol, fund = own.rates
    if rec.dynamic_fee:
        raise InvalidInputError(
            "DynamicFee: the pool's fee depends on the block time and its volatility "
            "accumulator, which is not quoted"
        )
    check_params(rec.sqrt_price_x64, rec.tick_current, rec.tick_spacing, trade)
    if protocol + fund > FEE_RATE_DENOMINATOR:
        raise InvalidInputError(
            f"protocol_fee_rate {protocol} + fund_fee_rate {fund} exceed 1000000"
        )
    ticks = sorted_ticks([t for _, arr in own.arrays.values() for t in arr])
    initialized = initialized_starts(rec.tick_array_bitmap, own.extension, rec.tick_spacing)
    held = {start for start, _ in own.arrays.values()}
    complete = complete_range(
        initialized,
        held,
        rec.tick_current,
        rec.tick_spacing,
        rec.tick_spacing >= 15 or own.extension is not None,
    )
    pool = Pool(
        rec.sqrt_price_x64, rec.liquidity, rec.tick_current, rec.tick_spacing, trade, rec.fee_on
    )
    refused = "NotApproved" if rec.status & STATUS_SWAP_DISABLED else None
    return RaydiumClmmState(pool, ticks, complete, refused), slot


def swap_state(state: RaydiumClmmState, amount: int, a_to_b: bool) -> RaydiumClmmSwap:
    """The program's exact-input swap of ``state`` (Fail on any refusal)."""
    if state.refused is not None:
        raise Fail(state.refused)
    return swap_exact_in(
        state.pool, state.ticks, state.complete, amount, a_to_b, max_arrays=SWAP_TICK_ARRAYS
    )


def _swap_whole(state: RaydiumClmmState, amount: int, a_to_b: bool) -> RaydiumClmmSwap | None:
    """The swap of ``amount`` (> 0), None when it cannot be done in full;
    TicksMissingError when it needs ticks the state does not hold."""
    try:
        r = swap_state(state, amount, a_to_b)
    except Fail as f:
        if f.name == "TicksMissing":
            raise TicksMissingError("the swap steps past the tick arrays held") from None
        return None
    return r if r.amount_in == amount else None


def _spot(pool: Pool, a_to_b: bool) -> float:
    s = pool.sqrt_price_x64 / 18_446_744_073_709_551_616.0
    p = s * s
    m = max(1_000_000 - pool.fee_rate, 0) / 1_000_000.0
    return p * m if a_to_b else (1.0 / p) * m


def spot_rate(state: RaydiumClmmState, a_to_b: bool) -> float:
    """The price's, after the fee: no ticks needed."""
    return _spot(state.pool, a_to_b)


def _steps(state: RaydiumClmmState, r: RaydiumClmmSwap, a_to_b: bool) -> int:
    """A swap's steps in the venue's compute-unit model: the initialized ticks it crossed
    (``crossed_ticks``: a swap reaching a tick with limit orders fails, so each one
    crossed holds liquidity; the Token-2022 surcharge is the mints', the caller's)."""
    return crossed_ticks(state.ticks, state.pool.tick_current, r.tick_current, a_to_b)


EXACT = ExactSwaps(_swap_whole, _steps, spot_rate)
quote_checked = EXACT.quote_checked
quote_steps = EXACT.quote_steps
quote = EXACT.quote
leg = EXACT.leg

"""Byte-exact account and log encoders (spec §1–3, §6): the inverse of the decoders.

The simulator builds every account it serves with these, so what a client receives has
the real layout at the real offsets and sizes. ``base`` (optional) is an existing
account to write over: fields the decoders read are replaced, every other byte is kept,
so ``encode_x(decode_x(real), base=real) == real`` for a real account (tested against
the mainnet fixtures). Without ``base`` the bytes no field covers are zero.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from engine_rs.python.accounts import (
    DISC_CPMM_CONFIG,
    DISC_CPMM_POOL,
    DISC_FIXED_TICK_ARRAY,
    DISC_TRADED,
    DISC_WHIRLPOOL,
    TICK_ARRAY_SIZE,
)
from engine_rs.python.b58 import b58decode

AMM_V4_LEN = 752
CPMM_POOL_LEN = 637
CPMM_CONFIG_LEN = 236
WHIRLPOOL_LEN = 653
FIXED_TICK_ARRAY_LEN = 9988
TOKEN_ACCOUNT_LEN = 165
MINT_LEN = 82
_TICK_LEN = 113


class _Writer:
    __slots__ = ("buf",)

    def __init__(self, size: int, base: bytes | None, disc: bytes = b"") -> None:
        if base is not None and len(base) < size:
            raise ValueError(f"base has {len(base)} bytes, the layout needs {size}")
        self.buf = bytearray(base if base is not None else bytes(size))
        if disc:
            self.buf[:8] = disc

    def u8(self, off: int, v: int) -> None:
        self.buf[off] = v

    def u16(self, off: int, v: int) -> None:
        struct.pack_into("<H", self.buf, off, v)

    def u64(self, off: int, v: int) -> None:
        struct.pack_into("<Q", self.buf, off, v)

    def i32(self, off: int, v: int) -> None:
        struct.pack_into("<i", self.buf, off, v)

    def u128(self, off: int, v: int) -> None:
        self.buf[off : off + 16] = v.to_bytes(16, "little")

    def i128(self, off: int, v: int) -> None:
        self.buf[off : off + 16] = v.to_bytes(16, "little", signed=True)

    def key(self, off: int, v: str) -> None:
        raw = b58decode(v)
        if len(raw) != 32:
            raise ValueError(f"{v!r} is not a 32-byte address")
        self.buf[off : off + 32] = raw

    def coption_key(self, off: int, v: str | None) -> None:
        self.buf[off : off + 4] = (1 if v is not None else 0).to_bytes(4, "little")
        if v is None:
            self.buf[off + 4 : off + 36] = bytes(32)
        else:
            self.key(off + 4, v)

    def coption_u64(self, off: int, v: int | None) -> None:
        self.buf[off : off + 4] = (1 if v is not None else 0).to_bytes(4, "little")
        self.u64(off + 4, v or 0)

    def done(self) -> bytes:
        return bytes(self.buf)


def encode_raydium_amm_v4(r: Any, base: bytes | None = None) -> bytes:
    """Raydium AMM v4 ``AmmInfo`` (752 bytes, spec §1.2)."""
    w = _Writer(AMM_V4_LEN, base)
    for off, v in (
        (0, r.status), (8, r.nonce), (32, r.coin_decimals), (40, r.pc_decimals),
        (48, r.state), (144, r.trade_fee_numerator), (152, r.trade_fee_denominator),
        (176, r.swap_fee_numerator), (184, r.swap_fee_denominator),
        (192, r.need_take_pnl_coin), (200, r.need_take_pnl_pc), (224, r.pool_open_time),
        (720, r.lp_amount),
    ):  # fmt: skip
        w.u64(off, v)
    for off, k in (
        (336, r.coin_vault), (368, r.pc_vault), (400, r.coin_vault_mint),
        (432, r.pc_vault_mint), (464, r.lp_mint), (496, r.open_orders), (528, r.market),
        (560, r.market_program), (592, r.target_orders), (688, r.amm_owner),
    ):  # fmt: skip
        w.key(off, k)
    return w.done()


def encode_raydium_cpmm(r: Any, base: bytes | None = None) -> bytes:
    """Raydium CP-Swap ``PoolState`` (637 bytes, spec §1.4)."""
    w = _Writer(CPMM_POOL_LEN, base, DISC_CPMM_POOL)
    keys = (
        r.amm_config, r.pool_creator, r.token_0_vault, r.token_1_vault, r.lp_mint,
        r.token_0_mint, r.token_1_mint, r.token_0_program, r.token_1_program,
        r.observation_key,
    )  # fmt: skip
    for i, k in enumerate(keys):
        w.key(8 + 32 * i, k)
    for off, v in (
        (328, r.auth_bump), (329, r.status), (330, r.lp_mint_decimals),
        (331, r.mint_0_decimals), (332, r.mint_1_decimals), (389, r.creator_fee_on),
    ):  # fmt: skip
        w.u8(off, v)
    for off, v in (
        (333, r.lp_supply), (341, r.protocol_fees_token_0), (349, r.protocol_fees_token_1),
        (357, r.fund_fees_token_0), (365, r.fund_fees_token_1), (373, r.open_time),
        (381, r.recent_epoch), (397, r.creator_fees_token_0), (405, r.creator_fees_token_1),
    ):  # fmt: skip
        w.u64(off, v)
    w.u8(390, int(r.enable_creator_fee))
    return w.done()


def encode_raydium_amm_config(r: Any, base: bytes | None = None) -> bytes:
    """Raydium CP-Swap ``AmmConfig`` (236 bytes, spec §1.4)."""
    w = _Writer(CPMM_CONFIG_LEN, base, DISC_CPMM_CONFIG)
    w.u8(8, r.bump)
    w.u8(9, int(r.disable_create_pool))
    w.u16(10, r.index)
    for off, v in (
        (12, r.trade_fee_rate), (20, r.protocol_fee_rate), (28, r.fund_fee_rate),
        (36, r.create_pool_fee), (108, r.creator_fee_rate),
    ):  # fmt: skip
        w.u64(off, v)
    w.key(44, r.protocol_owner)
    w.key(76, r.fund_owner)
    return w.done()


def encode_whirlpool(r: Any, base: bytes | None = None) -> bytes:
    """Orca ``Whirlpool`` (653 bytes, spec §2.2)."""
    w = _Writer(WHIRLPOOL_LEN, base, DISC_WHIRLPOOL)
    w.key(8, r.whirlpools_config)
    w.u8(40, r.whirlpool_bump)
    for off, v in (
        (41, r.tick_spacing), (43, r.fee_tier_index_seed), (45, r.fee_rate),
        (47, r.protocol_fee_rate),
    ):  # fmt: skip
        w.u16(off, v)
    w.u128(49, r.liquidity)
    w.u128(65, r.sqrt_price)
    w.i32(81, r.tick_current_index)
    w.u64(85, r.protocol_fee_owed_a)
    w.u64(93, r.protocol_fee_owed_b)
    w.key(101, r.token_mint_a)
    w.key(133, r.token_vault_a)
    w.u128(165, r.fee_growth_global_a)
    w.key(181, r.token_mint_b)
    w.key(213, r.token_vault_b)
    w.u128(245, r.fee_growth_global_b)
    w.u64(261, r.reward_last_updated_timestamp)
    for off, k in zip((269, 397, 525), r.reward_mints):
        w.key(off, k)
    return w.done()


def encode_fixed_tick_array(
    start_tick_index: int,
    whirlpool: str,
    ticks: list[tuple[int, int, int]],
    base: bytes | None = None,
) -> bytes:
    """A fixed ``TickArray`` (9,988 bytes, spec §2.3); ``ticks`` are the initialized ones
    as ``(i, liquidity_net, liquidity_gross)`` with ``0 <= i < 88``; the others are
    written uninitialized (net and gross zero)."""
    w = _Writer(FIXED_TICK_ARRAY_LEN, base, DISC_FIXED_TICK_ARRAY)
    w.i32(8, start_tick_index)
    init = {i: (net, gross) for i, net, gross in ticks}
    if any(not 0 <= i < TICK_ARRAY_SIZE for i in init):
        raise ValueError("tick offsets must be in [0, 88)")
    for i in range(TICK_ARRAY_SIZE):
        off = 12 + _TICK_LEN * i
        net, gross = init.get(i, (0, 0))
        w.u8(off, 1 if i in init else 0)
        w.i128(off + 1, net)
        w.u128(off + 17, gross)
    w.key(9956, whirlpool)
    return w.done()


def encode_token_account(r: Any, base: bytes | None = None) -> bytes:
    """An SPL Token account (165 bytes, spec §3)."""
    w = _Writer(TOKEN_ACCOUNT_LEN, base)
    w.key(0, r.mint)
    w.key(32, r.owner)
    w.u64(64, r.amount)
    w.coption_key(72, r.delegate)
    w.u8(108, r.state)
    w.coption_u64(109, r.is_native)
    w.u64(121, r.delegated_amount)
    w.coption_key(129, r.close_authority)
    return w.done()


def encode_mint(r: Any, base: bytes | None = None) -> bytes:
    """An SPL Token mint (82 bytes, spec §3; no Token-2022 extensions)."""
    w = _Writer(MINT_LEN, base)
    w.coption_key(0, r.mint_authority)
    w.u64(36, r.supply)
    w.u8(44, r.decimals)
    w.u8(45, int(r.is_initialized))
    w.coption_key(46, r.freeze_authority)
    return w.done()


def encode_ray_log(r: Any) -> str:
    """The base64 of a ``ray_log`` swap log (spec §6.1): SwapBaseIn (type 3) when ``r``
    has ``amount_in``, else SwapBaseOut (type 4)."""
    if hasattr(r, "amount_in"):
        vals = (3, r.amount_in, r.minimum_out, r.direction, r.user_source, r.pool_coin,
                r.pool_pc, r.out_amount)  # fmt: skip
    else:
        vals = (4, r.max_in, r.amount_out, r.direction, r.user_source, r.pool_coin,
                r.pool_pc, r.deduct_in)  # fmt: skip
    return base64.b64encode(struct.pack("<B7Q", *vals)).decode()


def encode_traded(r: Any) -> str:
    """The base64 of a Whirlpool ``Traded`` Anchor event (spec §6.2, 121 bytes)."""
    w = _Writer(121, None, DISC_TRADED)
    w.key(8, r.whirlpool)
    w.u8(40, int(r.a_to_b))
    w.u128(41, r.pre_sqrt_price)
    w.u128(57, r.post_sqrt_price)
    for i, v in enumerate(
        (r.input_amount, r.output_amount, r.input_transfer_fee, r.output_transfer_fee,
         r.lp_fee, r.protocol_fee)
    ):  # fmt: skip
        w.u64(73 + 8 * i, v)
    return base64.b64encode(w.done()).decode()

"""Records of decoded accounts and logs (spec §1–3, §6): the schema both engine
backends return from ``decode_*`` / ``parse_*``. Pubkeys are base58 strings.

Every record compares equal across backends, hashes alike and pickles: the twin builds
these frozen dataclasses; the extension builds them too, except :class:`Whirlpool` (the
hot decode), which it keeps natively with the same fields, equality, hash and pickling,
registered as a virtual subclass (``isinstance`` holds).
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RaydiumAmmV4:
    """Raydium AMM v4 ``AmmInfo`` (752 bytes, no discriminator). Swap reserves are the
    vault balances minus ``need_take_pnl_*``; swaps use ``swap_fee_*``."""

    status: int
    nonce: int
    coin_decimals: int
    pc_decimals: int
    state: int
    trade_fee_numerator: int
    trade_fee_denominator: int
    swap_fee_numerator: int
    swap_fee_denominator: int
    need_take_pnl_coin: int
    need_take_pnl_pc: int
    pool_open_time: int
    coin_vault: str
    pc_vault: str
    coin_vault_mint: str
    pc_vault_mint: str
    lp_mint: str
    open_orders: str
    market: str
    market_program: str
    target_orders: str
    amm_owner: str
    lp_amount: int

    @property
    def swap_enabled(self) -> bool:
        """``swap_permission()``: status 1, 6 or 7 (7 only after ``pool_open_time``)."""
        return self.status in (1, 6, 7)


@dataclass(frozen=True, slots=True)
class RaydiumCpmmPool:
    """Raydium CP-Swap ``PoolState`` (637 bytes with the discriminator)."""

    amm_config: str
    pool_creator: str
    token_0_vault: str
    token_1_vault: str
    lp_mint: str
    token_0_mint: str
    token_1_mint: str
    token_0_program: str
    token_1_program: str
    observation_key: str
    auth_bump: int
    status: int
    lp_mint_decimals: int
    mint_0_decimals: int
    mint_1_decimals: int
    lp_supply: int
    protocol_fees_token_0: int
    protocol_fees_token_1: int
    fund_fees_token_0: int
    fund_fees_token_1: int
    open_time: int
    recent_epoch: int
    creator_fee_on: int
    enable_creator_fee: bool
    creator_fees_token_0: int
    creator_fees_token_1: int

    @property
    def swap_enabled(self) -> bool:
        """Status bit 2 is "swap disabled"."""
        return not self.status & 0b100


@dataclass(frozen=True, slots=True)
class RaydiumAmmConfig:
    """Raydium CP-Swap ``AmmConfig`` (236 bytes); rates are per 1,000,000."""

    bump: int
    disable_create_pool: bool
    index: int
    trade_fee_rate: int
    protocol_fee_rate: int
    fund_fee_rate: int
    create_pool_fee: int
    protocol_owner: str
    fund_owner: str
    creator_fee_rate: int


@dataclass(frozen=True, slots=True)
class Whirlpool(ABC):
    """Orca ``Whirlpool`` (653 bytes). ``fee_rate`` is per 1,000,000; ``sqrt_price`` Q64.64."""

    whirlpools_config: str
    whirlpool_bump: int
    tick_spacing: int
    fee_tier_index_seed: int
    fee_rate: int
    protocol_fee_rate: int
    liquidity: int
    sqrt_price: int
    tick_current_index: int
    protocol_fee_owed_a: int
    protocol_fee_owed_b: int
    token_mint_a: str
    token_vault_a: str
    fee_growth_global_a: int
    token_mint_b: str
    token_vault_b: str
    fee_growth_global_b: int
    reward_last_updated_timestamp: int
    reward_mints: tuple[str, str, str]

    @property
    def is_adaptive_fee(self) -> bool:
        """Adaptive-fee pools have ``fee_tier_index_seed != tick_spacing`` (spec §2.2)."""
        return self.fee_tier_index_seed != self.tick_spacing


@dataclass(frozen=True, slots=True)
class TickArray:
    """A Whirlpool tick array, fixed or dynamic. ``ticks`` holds the **initialized**
    ticks only, as ``(i, liquidity_net, liquidity_gross)``: tick ``i`` of the array has
    index ``start_tick_index + i * tick_spacing``."""

    kind: str  # "fixed" or "dynamic"
    start_tick_index: int
    whirlpool: str
    ticks: tuple[tuple[int, int, int], ...] = ()

    def tick_indexes(self, tick_spacing: int) -> list[tuple[int, int]]:
        """``(tick_index, liquidity_net)`` of the initialized ticks, for the swap math."""
        return [(self.start_tick_index + i * tick_spacing, net) for i, net, _ in self.ticks]


@dataclass(frozen=True, slots=True)
class TransferFee:
    epoch: int
    maximum_fee: int
    transfer_fee_basis_points: int


@dataclass(frozen=True, slots=True)
class TokenAccount:
    """An SPL Token / Token-2022 account (165-byte base layout)."""

    mint: str
    owner: str
    amount: int
    delegate: str | None
    state: int
    is_native: int | None
    delegated_amount: int
    close_authority: str | None


@dataclass(frozen=True, slots=True)
class Mint:
    """An SPL Token / Token-2022 mint (82-byte base layout) and, for Token-2022, its
    ``TransferFeeConfig`` (older and newer fee) when present."""

    mint_authority: str | None
    supply: int
    decimals: int
    is_initialized: bool
    freeze_authority: str | None
    older_transfer_fee: TransferFee | None = None
    newer_transfer_fee: TransferFee | None = None

    def transfer_fee(self, epoch: int) -> TransferFee | None:
        """The fee in force at ``epoch``: newer if ``epoch >= newer.epoch``, else older."""
        if self.newer_transfer_fee is None:
            return None
        if epoch >= self.newer_transfer_fee.epoch:
            return self.newer_transfer_fee
        return self.older_transfer_fee


@dataclass(frozen=True, slots=True)
class SwapBaseInLog:
    """``ray_log`` of an AMM v4 swap_base_in (pool_* are the pre-swap reserves)."""

    amount_in: int
    minimum_out: int
    direction: int  # 1 = PC2Coin, 2 = Coin2PC
    user_source: int
    pool_coin: int
    pool_pc: int
    out_amount: int


@dataclass(frozen=True, slots=True)
class SwapBaseOutLog:
    """``ray_log`` of an AMM v4 swap_base_out."""

    max_in: int
    amount_out: int
    direction: int
    user_source: int
    pool_coin: int
    pool_pc: int
    deduct_in: int


@dataclass(frozen=True, slots=True)
class Traded:
    """Orca Whirlpool ``Traded`` event."""

    whirlpool: str
    a_to_b: bool
    pre_sqrt_price: int
    post_sqrt_price: int
    input_amount: int
    output_amount: int
    input_transfer_fee: int
    output_transfer_fee: int
    lp_fee: int
    protocol_fee: int


@dataclass(frozen=True, slots=True)
class CpmmSwapEvent:
    """Raydium CP-Swap ``SwapEvent`` (old 81-byte body, or the 162-byte one since
    2025-08; the newer fields are None in the old format)."""

    pool_id: str
    input_vault_before: int
    output_vault_before: int
    input_amount: int
    output_amount: int
    input_transfer_fee: int
    output_transfer_fee: int
    base_input: bool
    input_mint: str | None = None
    output_mint: str | None = None
    trade_fee: int | None = None
    creator_fee: int | None = None
    creator_fee_on_input: bool | None = None


@dataclass(frozen=True, slots=True)
class RaydiumClmmPool:
    """Raydium CLMM ``PoolState`` (1,544 bytes with the discriminator). ``sqrt_price_x64``
    is Q64.64; ``fee_on``: 0 the input, 1 token 0, 2 token 1; ``status`` bit 4 disables
    swaps; ``dynamic_fee``: its ``DynamicFeeInfo`` is set."""

    bump: int
    amm_config: str
    owner: str
    token_mint_0: str
    token_mint_1: str
    token_vault_0: str
    token_vault_1: str
    observation_key: str
    mint_decimals_0: int
    mint_decimals_1: int
    tick_spacing: int
    liquidity: int
    sqrt_price_x64: int
    tick_current: int
    fee_growth_global_0_x64: int
    fee_growth_global_1_x64: int
    protocol_fees_token_0: int
    protocol_fees_token_1: int
    status: int
    fee_on: int
    tick_array_bitmap: tuple[int, ...]
    fund_fees_token_0: int
    fund_fees_token_1: int
    open_time: int
    recent_epoch: int
    dynamic_fee: bool


@dataclass(frozen=True, slots=True)
class RaydiumClmmConfig:
    """Raydium CLMM ``AmmConfig`` (117 bytes); rates are per 1,000,000."""

    bump: int
    index: int
    owner: str
    protocol_fee_rate: int
    trade_fee_rate: int
    tick_spacing: int
    fund_fee_rate: int
    fund_owner: str


@dataclass(frozen=True, slots=True)
class RaydiumClmmTickArray:
    """A Raydium CLMM ``TickArrayState`` (10,240 bytes, 60 ticks). ``ticks`` holds the
    **initialized** ticks only (liquidity or limit orders), as ``(i, tick,
    liquidity_net, liquidity_gross, orders_amount, part_filled_orders_remaining)``."""

    pool_id: str
    start_tick_index: int
    initialized_tick_count: int
    ticks: tuple[tuple[int, int, int, int, int, int], ...]


@dataclass(frozen=True, slots=True)
class RaydiumClmmBitmapExtension:
    """A Raydium CLMM ``TickArrayBitmapExtension`` (1,832 bytes): 14 bitmaps of 512 bits
    a side, each side flattened to 112 u64 words."""

    pool_id: str
    positive: tuple[int, ...]
    negative: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RaydiumClmmSwapEvent:
    """Raydium CLMM ``SwapEvent`` (205 bytes, or 221 with ``trade_fee_0/1``, None in
    the older format)."""

    pool_state: str
    sender: str
    token_account_0: str
    token_account_1: str
    amount_0: int
    transfer_fee_0: int
    amount_1: int
    transfer_fee_1: int
    zero_for_one: bool
    sqrt_price_x64: int
    liquidity: int
    tick: int
    trade_fee_0: int | None = None
    trade_fee_1: int | None = None


@dataclass(frozen=True, slots=True)
class RaydiumClmmSwap:
    """One Raydium CLMM exact-input swap as the program executes it: ``amount_in``
    includes the fee when the fee is on the input; the last three fields are the pool's
    state after the swap."""

    amount_in: int
    amount_out: int
    fee_amount: int
    sqrt_price_x64: int
    tick_current: int
    liquidity: int


@dataclass(frozen=True, slots=True)
class PumpAmmPool:
    """PumpSwap ``Pool`` (211 bytes at least; the fields after ``lp_supply`` are read
    when the account holds them, pools are extended to 300). ``coin_creator`` is the
    zero key (all ``1``s in base58) when the pool has none: no creator fee then."""

    pool_bump: int
    index: int
    creator: str
    base_mint: str
    quote_mint: str
    lp_mint: str
    pool_base_token_account: str
    pool_quote_token_account: str
    lp_supply: int
    coin_creator: str
    is_mayhem_mode: bool
    is_cashback_coin: bool
    # i128 at 245 in pools of 261 bytes or more (0 otherwise): not in the mirrored IDL,
    # in the current one (pump-swap-sdk >= 1.19); the curve prices with vault + this
    virtual_quote_reserves: int = 0


@dataclass(frozen=True, slots=True)
class PumpAmmGlobalConfig:
    """PumpSwap ``GlobalConfig`` (its first 313 bytes, and
    ``coin_creator_fee_basis_points`` when held, else 0); fees in basis points."""

    admin: str
    lp_fee_basis_points: int
    protocol_fee_basis_points: int
    disable_flags: int
    protocol_fee_recipients: tuple[str, str, str, str, str, str, str, str]
    coin_creator_fee_basis_points: int


@dataclass(frozen=True, slots=True)
class PumpFeeConfig:
    """pump_fees ``FeeConfig`` (PumpSwap's at the PDA of ``["fee_config", program id]``
    under the fee program): rates in bps (lp, protocol, creator); each tier is
    ``(market_cap_lamports_threshold, lp, protocol, creator)``."""

    bump: int
    admin: str
    flat_fees: tuple[int, int, int]
    fee_tiers: tuple[tuple[int, int, int, int], ...]
    stable_fee_tiers: tuple[tuple[int, int, int, int], ...]


@dataclass(frozen=True, slots=True)
class PumpSwapEvent:
    """PumpSwap ``BuyEvent`` (``buy``) or ``SellEvent``: the fixed head both share (for a
    buy ``base_amount`` is out and ``quote_amount`` in, for a sell the other way round;
    ``quote_limit`` is the max in / min out) and the coin creator fee when the event
    carries it (None in events older than the creator fee)."""

    buy: bool
    timestamp: int
    base_amount: int
    quote_limit: int
    user_base_token_reserves: int
    user_quote_token_reserves: int
    pool_base_token_reserves: int
    pool_quote_token_reserves: int
    quote_amount: int
    lp_fee_basis_points: int
    lp_fee: int
    protocol_fee_basis_points: int
    protocol_fee: int
    quote_amount_with_lp_fee: int
    user_quote_amount: int
    pool: str
    coin_creator_fee_basis_points: int | None = None
    coin_creator_fee: int | None = None


@dataclass(frozen=True, slots=True)
class MeteoraLbPair:
    """Meteora DLMM ``LbPair`` (its ``StaticParameters`` and ``VariableParameters``
    flattened in place; ``reward_mints`` of its two ``RewardInfo``; ``bin_array_bitmap``
    as its 16 u64 words)."""

    base_factor: int
    filter_period: int
    decay_period: int
    reduction_factor: int
    variable_fee_control: int
    max_volatility_accumulator: int
    min_bin_id: int
    max_bin_id: int
    protocol_share: int
    base_fee_power_factor: int
    function_type: int
    collect_fee_mode: int
    volatility_accumulator: int
    volatility_reference: int
    index_reference: int
    last_update_timestamp: int
    bump_seed: int
    bin_step_seed: int
    pair_type: int
    active_id: int
    bin_step: int
    status: int
    require_base_factor_seed: int
    base_factor_seed: int
    activation_type: int
    creator_pool_on_off_control: int
    token_x_mint: str
    token_y_mint: str
    reserve_x: str
    reserve_y: str
    protocol_fee_x: int
    protocol_fee_y: int
    reward_mints: tuple[str, str]
    oracle: str
    bin_array_bitmap: tuple[int, ...]
    last_updated_at: int
    pre_activation_swap_address: str
    base_key: str
    activation_point: int
    pre_activation_duration: int
    creator: str
    token_mint_x_program_flag: int
    token_mint_y_program_flag: int
    version: int


@dataclass(frozen=True, slots=True)
class DlmmBinArray:
    """Meteora DLMM ``BinArray``: its 70 bins as ``(amount_x, amount_y, price,
    liquidity_supply, open_order_amount, processed_order_remaining_amount,
    limit_order_ask_side)``; bin ``i`` has id ``index * 70 + i``."""

    index: int
    version: int
    lb_pair: str
    bins: tuple[tuple[int, int, int, int, int, int, int], ...]


@dataclass(frozen=True, slots=True)
class DlmmBitmapExtension:
    """Meteora DLMM ``BinArrayBitmapExtension``: 12 words of 512 bits each way, each as
    8 u64 limbs (array indexes 512.. positive, ..-513 negative)."""

    lb_pair: str
    positive: tuple[tuple[int, ...], ...]
    negative: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class DlmmSwapEvent:
    """Meteora DLMM ``Swap`` event."""

    lb_pair: str
    from_: str
    start_bin_id: int
    end_bin_id: int
    amount_in: int
    amount_out: int
    swap_for_y: bool
    fee: int
    protocol_fee: int
    fee_bps: int
    host_fee: int


@dataclass(frozen=True, slots=True)
class DlmmSwapQuote:
    """The Meteora DLMM program's exact-in swap (``meteora_dlmm.swap``): output, total
    fee and the protocol's part, the active bin and the volatility state after, and per
    bin filled ``(bin id, input used net of an input fee, output before an output fee,
    the bin's fee, its protocol part, its market makers' part after the protocol's)`` in
    walk order."""

    amount_out: int
    fee: int
    protocol_fee: int
    active_id: int
    volatility_accumulator: int
    volatility_reference: int
    index_reference: int
    fills: tuple[tuple[int, int, int, int, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class OpenBookMarket:
    """OpenBook v2 ``Market`` (848 bytes with its discriminator). The
    ``NonZeroPubkeyOption`` keys (admins, oracles) are None when zero; ``name`` without
    its zero padding. Lot sizes: native units per lot; fees in 10^-6 (``maker_fee`` < 0
    is a rebate)."""

    bump: int
    base_decimals: int
    quote_decimals: int
    market_authority: str
    time_expiry: int
    collect_fee_admin: str
    open_orders_admin: str | None
    consume_events_admin: str | None
    close_market_admin: str | None
    name: str
    bids: str
    asks: str
    event_heap: str
    oracle_a: str | None
    oracle_b: str | None
    conf_filter: float
    max_staleness_slots: int
    quote_lot_size: int
    base_lot_size: int
    seq_num: int
    registration_time: int
    maker_fee: int
    taker_fee: int
    fees_accrued: int
    fees_to_referrers: int
    referrer_rebates_accrued: int
    fees_available: int
    maker_volume: int
    taker_volume_wo_oo: int
    base_mint: str
    quote_mint: str
    market_base_vault: str
    base_deposit_total: int
    market_quote_vault: str
    quote_deposit_total: int


@dataclass(frozen=True, slots=True)
class OpenBookOrder:
    """One order of a ``BookSide``: a leaf node of its order tree, every field of the
    ``LeafNode`` plus what is derived from its key. ``handle``: its node slot;
    ``oracle_pegged``: in the oracle-pegged tree; ``key`` = price data << 64 | seq num
    (a bid's seq num inverted); ``price_lots``: a fixed order's price in lots, a pegged
    order's offset from the oracle price in lots; ``seq_num``: the order's sequence
    number (un-inverted); ``peg_limit`` -1: none; ``time_in_force`` 0: never expires."""

    handle: int
    oracle_pegged: bool
    owner_slot: int
    time_in_force: int
    key: int
    owner: str
    quantity: int
    timestamp: int
    peg_limit: int
    client_order_id: int
    price_lots: int
    seq_num: int


@dataclass(frozen=True, slots=True)
class OpenBookBookSide:
    """OpenBook v2 ``BookSide`` (90 952 bytes): ``side`` "bid" or "ask" (its
    ``order_tree_type``), the two roots (node handle and leaf count of the fixed and the
    oracle-pegged tree), the node pool's header, and ``orders``: the fixed tree's orders
    best first (the program's iteration order), then the oracle-pegged tree's best first
    (merging the two needs an oracle price: ``openbook_v2.ladder`` takes one)."""

    side: str
    fixed_root: int
    fixed_leaf_count: int
    pegged_root: int
    pegged_leaf_count: int
    bump_index: int
    free_list_len: int
    free_list_head: int
    orders: tuple[OpenBookOrder, ...]


@dataclass(frozen=True, slots=True)
class OpenBookFillEvent:
    """A ``FillEvent`` of the heap (``slot``: its slot; sides 0 bid, 1 ask; ``price`` in
    lots, ``quantity`` in base lots)."""

    slot: int
    taker_side: int
    maker_out: int
    maker_slot: int
    timestamp: int
    market_seq_num: int
    maker: str
    maker_timestamp: int
    taker: str
    taker_client_order_id: int
    price: int
    peg_limit: int
    quantity: int
    maker_client_order_id: int


@dataclass(frozen=True, slots=True)
class OpenBookOutEvent:
    """An ``OutEvent`` of the heap (an order removed: expired, or booted)."""

    slot: int
    side: int
    owner_slot: int
    timestamp: int
    seq_num: int
    owner: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OpenBookEventHeap:
    """OpenBook v2 ``EventHeap`` (91 288 bytes): the header and the ``count`` events of
    the used list in order from ``used_head``."""

    free_head: int
    used_head: int
    count: int
    seq_num: int
    events: tuple[OpenBookFillEvent | OpenBookOutEvent, ...]


@dataclass(frozen=True, slots=True)
class OpenBookTotalOrderFillEvent:
    """OpenBook v2 ``TotalOrderFillEvent``, logged after a take: the taker's side (0 bid,
    1 ask), what ``new_order`` computed it paid and received and its taker fee (native
    units; a bid's ``total_quantity_paid`` includes the whole fee, while
    ``place_take_order``'s transfers carry only the makers' rebates of it)."""

    side: int
    taker: str
    total_quantity_paid: int
    total_quantity_received: int
    fees: int


def pool_mints(kind: str, rec: Any) -> tuple[str, str]:
    """The two mints of a decoded pool account of ``kind`` (amm_v4: coin, pc; cpmm:
    token 0, token 1; whirlpool: a, b): its venue's ``reserve_mints``."""
    from .python.venues import by_kind  # the venues read these records, whichever backend

    return by_kind(kind).reserve_mints(rec)


@dataclass(frozen=True, slots=True)
class MeteoraDammPool:
    """Meteora DAMM v2 (cp-amm) ``Pool`` (1,112 bytes with its discriminator): its
    ``PoolFeesStruct`` flattened in place (``base_fee``: the ``BaseFeeInfo``'s 32 bytes,
    read by their mode byte; the ``DynamicFeeStruct``'s fields, its ``reduction_factor``
    as ``dynamic_reduction_factor``), then the pool's own fields without paddings,
    metrics, fee accumulators and rewards."""

    base_fee: bytes
    protocol_fee_percent: int
    referral_fee_percent: int
    compounding_fee_bps: int
    dynamic_fee_initialized: int
    max_volatility_accumulator: int
    variable_fee_control: int
    bin_step: int
    filter_period: int
    decay_period: int
    dynamic_reduction_factor: int
    last_update_timestamp: int
    bin_step_u128: int
    sqrt_price_reference: int
    volatility_accumulator: int
    volatility_reference: int
    init_sqrt_price: int
    token_a_mint: str
    token_b_mint: str
    token_a_vault: str
    token_b_vault: str
    whitelisted_vault: str
    liquidity: int
    protocol_a_fee: int
    protocol_b_fee: int
    sqrt_min_price: int
    sqrt_max_price: int
    sqrt_price: int
    activation_point: int
    activation_type: int  # 0 by slot, 1 by unix time
    pool_status: int  # 0 enabled, 1 disabled
    token_a_flag: int  # 0 SPL Token, 1 Token-2022
    token_b_flag: int
    collect_fee_mode: int  # 0 both tokens, 1 only b, 2 compounding
    pool_type: int
    fee_version: int
    permanent_lock_liquidity: int
    creator: str
    token_a_amount: int
    token_b_amount: int
    layout_version: int


@dataclass(frozen=True, slots=True)
class DammSwapQuote:
    """The DAMM v2 program's exact-input swap (``meteora_damm_v2.swap``, its
    ``SwapResult2`` and the fee numerator charged): the input before and after an input
    fee, the output after an output fee, the price after, and the fee's split."""

    included_fee_input_amount: int
    excluded_fee_input_amount: int
    output_amount: int
    next_sqrt_price: int
    trade_fee_numerator: int
    claiming_fee: int
    compounding_fee: int
    protocol_fee: int
    referral_fee: int
    fees_on_input: bool


@dataclass(frozen=True, slots=True)
class DammSwapEvent:
    """DAMM v2 ``EvtSwap2`` (emitted by self-CPI): the pool, direction (0 a -> b, 1 b ->
    a), collect-fee mode, referral, the instruction's ``SwapParameters2``, its
    ``SwapResult2``, the Token-2022 transfer amounts, the clock and the reserves after."""

    pool: str
    trade_direction: int
    collect_fee_mode: int
    has_referral: bool
    amount_0: int
    amount_1: int
    swap_mode: int
    included_fee_input_amount: int
    excluded_fee_input_amount: int
    amount_left: int
    output_amount: int
    next_sqrt_price: int
    claiming_fee: int
    protocol_fee: int
    compounding_fee: int
    referral_fee: int
    included_transfer_fee_amount_in: int
    included_transfer_fee_amount_out: int
    excluded_transfer_fee_amount_out: int
    current_timestamp: int
    reserve_a_amount: int
    reserve_b_amount: int


@dataclass(frozen=True, slots=True)
class ManifestOrder:
    """One resting order of a Manifest market (``RestingOrder``, 64 bytes in an 80-byte
    block at ``index``): ``price`` in quote atoms per base atom times 10^18 (a u128),
    ``base_atoms`` (0: an emptied reverse order the program removes when met), its
    maker ``trader`` (the key of its seat at ``trader_index``), ``last_valid_slot`` (0:
    never expires), ``order_type`` (0 limit, 2 post-only, 3 global, 4 reverse, 5 reverse
    tight) and ``reverse_spread``."""

    index: int
    price: int
    base_atoms: int
    sequence_number: int
    trader_index: int
    trader: str
    last_valid_slot: int
    is_bid: bool
    order_type: int
    reverse_spread: int


@dataclass(frozen=True, slots=True)
class ManifestMarket:
    """A Manifest market account: ``MarketFixed`` (256 bytes) and its book, both sides
    walked best first (ties oldest first) from the red-black trees in its 80-byte blocks;
    ``seats`` claimed and ``free_blocks`` on its free list."""

    version: int
    base_mint_decimals: int
    quote_mint_decimals: int
    base_vault_bump: int
    quote_vault_bump: int
    base_mint: str
    quote_mint: str
    base_vault: str
    quote_vault: str
    order_sequence_number: int
    num_bytes_allocated: int
    bids_root_index: int
    bids_best_index: int
    asks_root_index: int
    asks_best_index: int
    claimed_seats_root_index: int
    free_list_head_index: int
    quote_volume: int
    bids: tuple[ManifestOrder, ...]
    asks: tuple[ManifestOrder, ...]
    seats: int
    free_blocks: int


@dataclass(frozen=True, slots=True)
class ManifestGlobal:
    """A Manifest global account of a mint (``GlobalFixed``, 96 bytes, and 64-byte
    blocks): ``deposits`` maps each trader holding a seat to the atoms it deposited,
    which back its global orders (sorted by trader)."""

    mint: str
    vault: str
    num_bytes_allocated: int
    vault_bump: int
    global_bump: int
    num_seats_claimed: int
    deposits: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class ManifestSwap:
    """The Manifest program's exact-input ``Swap`` (``manifest.swap``): what the taker's
    transfers move in (at most the amount: the rest stays in the wallet) and out, the
    base atoms ``place_order`` was asked for, the maker orders filled and removed
    (expired, empty, unbacked global), the global orders filled; ``exhausted``: the book
    ran out before the input; ``missing_global``: the walk stopped at a global order
    whose global account it was not given."""

    amount_in: int
    amount_out: int
    target_base: int
    fills: int
    removed: int
    global_fills: int
    exhausted: bool
    missing_global: bool


@dataclass(frozen=True, slots=True)
class ManifestFillLog:
    """Manifest ``FillLog`` (one per maker order a taker fills; ``Program data:`` of the
    program itself): the market, maker, taker, mints, price (quote atoms per base atom ·
    10^18), the atoms moved, both sequence numbers, the taker's direction and whether
    the maker's order was global."""

    market: str
    maker: str
    taker: str
    base_mint: str
    quote_mint: str
    price: int
    base_atoms: int
    quote_atoms: int
    maker_sequence_number: int
    taker_sequence_number: int
    taker_is_buy: bool
    is_maker_global: bool

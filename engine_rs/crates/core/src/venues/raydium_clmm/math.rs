//! Raydium CLMM's own math (twin: `engine_rs/python/venues/raydium_clmm.py`), written
//! from the program's sources (raydium-io/raydium-clmm `programs/amm/src/libraries/`:
//! `tick_math.rs`, `sqrt_price_math.rs`, `liquidity_math.rs`, `swap_math.rs`, and the
//! swap loop of `instructions/swap.rs`), exact-input only.
//!
//! It is not Orca's: the tick math has its own magic factors and bounds
//! (`MAX_SQRT_PRICE_X64` differs), a swap step stops only at initialized ticks (not at
//! tick-array edges) and fails when no initialized tick is left in the swap's direction
//! (`LiquidityInsufficient`), the fee is taken on the input or on the output as the
//! pool's `fee_on` says, and crossing a tick sets the current tick to `tick - 1` going
//! down. Intermediates that the program computes in 256 or 512 bits are computed exactly
//! here (`ruint`), so every rounding is the program's.

use ruint::aliases::{U256, U512};

/// The minimum and maximum tick.
pub const MIN_TICK: i32 = -443_636;
pub const MAX_TICK: i32 = 443_636;
/// `get_sqrt_price_at_tick(MIN_TICK)` and `(MAX_TICK)`.
pub const MIN_SQRT_PRICE_X64: u128 = 4_295_048_016;
pub const MAX_SQRT_PRICE_X64: u128 = 79_226_673_521_066_979_257_578_248_091;
/// Ticks per tick array.
pub const TICK_ARRAY_SIZE: i32 = 60;
/// Fee rates are per this.
pub const FEE_RATE_DENOMINATOR: u32 = 1_000_000;
/// The initialized tick arrays arbscope's `swap_v2` names (the first one the swap reads
/// and the next two in its direction: `feeds/venues/raydium_clmm.py`); a quote of a
/// swap that reads more is refused, as the program refuses the swap
/// (`NotEnoughTickArrayAccount`).
pub const SWAP_TICK_ARRAYS: u32 = 3;

/// The tick carries liquidity (`liquidity_gross > 0`).
pub const HAS_LIQUIDITY: u8 = 1;
/// The tick carries limit orders (`orders_amount > 0 || part_filled_orders_remaining > 0`).
pub const HAS_LIMIT_ORDERS: u8 = 2;

/// An initialized tick as the swap needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub index: i32,
    pub liquidity_net: i128,
    /// [`HAS_LIQUIDITY`] | [`HAS_LIMIT_ORDERS`]
    pub flags: u8,
}

/// Why a computation failed: the program's error names, and the refusals of a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// `TickUpperOverflow`: a tick outside [MIN_TICK, MAX_TICK].
    TickUpperOverflow,
    /// `SqrtPriceX64`: a price outside [MIN_SQRT_PRICE_X64, MAX_SQRT_PRICE_X64).
    SqrtPriceX64,
    CalculateOverflow,
    MaxTokenOverflow,
    ZeroLiquidity,
    LiquiditySubValueErr,
    LiquidityAddValueErr,
    LiquidityInsufficient,
    InsufficientLiquidityForDirection,
    ZeroAmountSpecified,
    NotApproved,
    SqrtPriceLimitOverflow,
    TooSmallInputOrOutputAmount,
    /// An Anchor `require_gt!`/`require_gte!` of the swap loop failed (state
    /// inconsistent: tick and price disagree).
    RequireViolated,
    /// The swap reaches a tick with limit orders: their matching is not reproduced.
    LimitOrders,
    /// The swap needs ticks of a tick array the state does not hold.
    TicksMissing,
    /// `NotEnoughTickArrayAccount`: the swap reads more initialized tick arrays than the
    /// instruction names.
    NotEnoughTickArrayAccount,
}

impl Fail {
    /// The program's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Fail::TickUpperOverflow => "TickUpperOverflow",
            Fail::SqrtPriceX64 => "SqrtPriceX64",
            Fail::CalculateOverflow => "CalculateOverflow",
            Fail::MaxTokenOverflow => "MaxTokenOverflow",
            Fail::ZeroLiquidity => "ZeroLiquidity",
            Fail::LiquiditySubValueErr => "LiquiditySubValueErr",
            Fail::LiquidityAddValueErr => "LiquidityAddValueErr",
            Fail::LiquidityInsufficient => "LiquidityInsufficient",
            Fail::InsufficientLiquidityForDirection => "InsufficientLiquidityForDirection",
            Fail::ZeroAmountSpecified => "ZeroAmountSpecified",
            Fail::NotApproved => "NotApproved",
            Fail::SqrtPriceLimitOverflow => "SqrtPriceLimitOverflow",
            Fail::TooSmallInputOrOutputAmount => "TooSmallInputOrOutputAmount",
            Fail::RequireViolated => "RequireViolated",
            Fail::LimitOrders => "LimitOrders",
            Fail::TicksMissing => "TicksMissing",
            Fail::NotEnoughTickArrayAccount => "NotEnoughTickArrayAccount",
        }
    }
}

const Q64: u128 = 1 << 64;

/// `sqrt(1.0001^tick) * 2^64` as the program's `get_sqrt_price_at_tick` computes it.
pub fn sqrt_price_at_tick(tick: i32) -> Result<u128, Fail> {
    if !(MIN_TICK..=MAX_TICK).contains(&tick) {
        return Err(Fail::TickUpperOverflow);
    }
    const FACTORS: [u128; 18] = [
        0xfff9_7272_373d_4000,
        0xfff2_e50f_5f65_7000,
        0xffe5_caca_7e10_f000,
        0xffcb_9843_d60f_7000,
        0xff97_3b41_fa98_e800,
        0xff2e_a164_66c9_b000,
        0xfe5d_ee04_6a9a_3800,
        0xfcbe_86c7_900b_b000,
        0xf987_a725_3ac6_5800,
        0xf339_2b08_22bb_6000,
        0xe715_9475_a2ca_f000,
        0xd097_f3bd_fd2f_2000,
        0xa9f7_4646_2d9f_8000,
        0x70d8_69a1_56f3_1c00,
        0x31be_135f_97ed_3200,
        0x09aa_508b_5b85_a500,
        0x005d_6af8_dedc_582c,
        0x0000_2216_e584_f5fa,
    ];
    let abs = tick.unsigned_abs();
    let mut ratio: u128 = if abs & 1 != 0 {
        0xfffc_b933_bd6f_b800
    } else {
        Q64
    };
    for (i, f) in FACTORS.iter().enumerate() {
        if abs & (2 << i) != 0 {
            // ratio <= 2^64 and f < 2^64: the product fits in 128 bits
            ratio = (ratio * f) >> 64;
        }
    }
    if tick > 0 {
        ratio = u128::MAX / ratio;
    }
    Ok(ratio)
}

/// The greatest tick whose sqrt price is `<= sqrt_price_x64` (`get_tick_at_sqrt_price`).
pub fn tick_at_sqrt_price(sqrt_price_x64: u128) -> Result<i32, Fail> {
    if !(MIN_SQRT_PRICE_X64..MAX_SQRT_PRICE_X64).contains(&sqrt_price_x64) {
        return Err(Fail::SqrtPriceX64);
    }
    let msb: u32 = 128 - sqrt_price_x64.leading_zeros() - 1;
    let log2p_integer_x32 = (i128::from(msb) - 64) << 32;
    let mut bit: i128 = 0x8000_0000_0000_0000;
    let mut precision = 0;
    let mut log2p_fraction_x64: i128 = 0;
    let mut r: u128 = if msb >= 64 {
        sqrt_price_x64 >> (msb - 63)
    } else {
        sqrt_price_x64 << (63 - msb)
    };
    while bit > 0 && precision < 16 {
        r *= r;
        let more = (r >> 127) as u32;
        r >>= 63 + more;
        log2p_fraction_x64 += bit * i128::from(more);
        bit >>= 1;
        precision += 1;
    }
    let log2p_x32 = log2p_integer_x32 + (log2p_fraction_x64 >> 32);
    let log_sqrt_10001_x64 = log2p_x32 * 59_543_866_431_248i128;
    let tick_low = ((log_sqrt_10001_x64 - 184_467_440_737_095_516i128) >> 64) as i32;
    let tick_high = ((log_sqrt_10001_x64 + 15_793_534_762_490_258_745i128) >> 64) as i32;
    if tick_low == tick_high {
        Ok(tick_low)
    } else if sqrt_price_at_tick(tick_high)? <= sqrt_price_x64 {
        Ok(tick_high)
    } else {
        Ok(tick_low)
    }
}

/// `(a * b) / d` floor or ceil for u64 (`MulDiv for u64`): None for d = 0 or a result
/// past u64.
#[inline]
fn mul_div_u64(a: u64, b: u64, d: u64, ceil: bool) -> Option<u64> {
    if d == 0 {
        return None;
    }
    let p = u128::from(a) * u128::from(b);
    let q = if ceil {
        p.div_ceil(u128::from(d))
    } else {
        p / u128::from(d)
    };
    u64::try_from(q).ok()
}

#[inline]
fn u256(x: u128) -> U256 {
    U256::from(x)
}

/// `ceil(x * 2^64 / d)` or its floor, exactly (the program's `mul_pow2_div_*`, whose
/// result never passes 256 bits here).
#[inline]
fn mul_q64_div(x: U256, d: U256, ceil: bool) -> Result<U256, Fail> {
    if x.leading_zeros() >= 64 {
        let n: U256 = x << 64usize;
        let (q, r) = n.div_rem(d);
        Ok(if ceil && !r.is_zero() {
            q + U256::from(1u8)
        } else {
            q
        })
    } else {
        let n: U512 = U512::from(x) << 64usize;
        let dd = U512::from(d);
        let (q, r) = n.div_rem(dd);
        let q = if ceil && !r.is_zero() {
            q + U512::from(1u8)
        } else {
            q
        };
        let l = q.as_limbs();
        if l[4..].iter().any(|&w| w != 0) {
            return Err(Fail::CalculateOverflow);
        }
        Ok(U256::from_limbs([l[0], l[1], l[2], l[3]]))
    }
}

/// `get_delta_amounts_for_swap`: (amount in rounded up, amount out rounded down) to move
/// the price between `a` and `b` with `liquidity`; `MaxTokenOverflow` past u64.
pub fn delta_amounts(
    a: u128,
    b: u128,
    liquidity: u128,
    zero_for_one: bool,
) -> Result<(u64, u64), Fail> {
    let (lo, hi) = if a > b { (b, a) } else { (a, b) };
    if lo == 0 {
        return Err(Fail::CalculateOverflow); // ZeroSqrtPrice: prices here are >= MIN
    }
    let amount_1_x64 = u256(liquidity) * u256(hi - lo);
    let product = u256(lo) * u256(hi);
    let (amount_in, amount_out) = if zero_for_one {
        (
            mul_q64_div(amount_1_x64, product, true)?,
            amount_1_x64 >> 64,
        )
    } else {
        (
            (amount_1_x64 + U256::from(u64::MAX)) >> 64,
            mul_q64_div(amount_1_x64, product, false)?,
        )
    };
    let fits = |x: U256| u64::try_from(x).map_err(|_| Fail::MaxTokenOverflow);
    Ok((fits(amount_in)?, fits(amount_out)?))
}

/// `get_next_sqrt_price_from_input`.
pub fn next_sqrt_price_from_input(
    sqrt_price_x64: u128,
    liquidity: u128,
    amount_in: u64,
    zero_for_one: bool,
) -> Result<u128, Fail> {
    if !(MIN_SQRT_PRICE_X64..MAX_SQRT_PRICE_X64).contains(&sqrt_price_x64) {
        return Err(Fail::SqrtPriceX64);
    }
    if liquidity == 0 {
        return Err(Fail::ZeroLiquidity);
    }
    if amount_in == 0 {
        return Ok(sqrt_price_x64);
    }
    if zero_for_one {
        // ceil(L·2^64 · √P / (L·2^64 + Δx·√P)); the denominator fits in 256 bits
        let numerator_1 = u256(liquidity) << 64;
        let denominator = numerator_1 + U256::from(amount_in) * u256(sqrt_price_x64);
        let n = U512::from(numerator_1) * U512::from(sqrt_price_x64);
        let (q, r) = n.div_rem(U512::from(denominator));
        let q = if r.is_zero() { q } else { q + U512::from(1u8) };
        // q <= √P: fits
        u128::try_from(q).map_err(|_| Fail::CalculateOverflow)
    } else {
        let quotient = (u128::from(amount_in) << 64) / liquidity;
        sqrt_price_x64
            .checked_add(quotient)
            .ok_or(Fail::CalculateOverflow)
    }
}

/// One step of `swap_math::compute_swap`, exact input: (next price, amount in, amount
/// out, fee).
pub fn compute_swap_step(
    current: u128,
    target: u128,
    liquidity: u128,
    remaining: u64,
    fee_rate: u32,
    zero_for_one: bool,
    fee_on_input: bool,
) -> Result<(u128, u64, u64, u64), Fail> {
    let den = u64::from(FEE_RATE_DENOMINATOR);
    let rest = u64::from(FEE_RATE_DENOMINATOR.saturating_sub(fee_rate));
    let for_price = if fee_on_input {
        mul_div_u64(remaining, rest, den, false).ok_or(Fail::CalculateOverflow)?
    } else {
        remaining
    };
    let reach = match delta_amounts(target, current, liquidity, zero_for_one) {
        Ok((i, o)) => (for_price >= i).then_some((i, o)),
        Err(Fail::MaxTokenOverflow) => None,
        Err(e) => return Err(e),
    };
    let (next, mut amount_in, mut amount_out) = match reach {
        Some((i, o)) => (target, i, o),
        None => {
            let next = next_sqrt_price_from_input(current, liquidity, for_price, zero_for_one)?;
            let (i, o) = delta_amounts(next, current, liquidity, zero_for_one)?;
            (next, i, o)
        }
    };
    if (zero_for_one && next < target) || (!zero_for_one && target < next) {
        return Err(Fail::RequireViolated);
    }
    let fee = if fee_on_input {
        if next != target {
            remaining
                .checked_sub(amount_in)
                .ok_or(Fail::CalculateOverflow)?
        } else {
            mul_div_u64(amount_in, u64::from(fee_rate), rest, true)
                .ok_or(Fail::CalculateOverflow)?
        }
    } else {
        let fee = mul_div_u64(amount_out, u64::from(fee_rate), den, true)
            .ok_or(Fail::CalculateOverflow)?;
        amount_out = amount_out.checked_sub(fee).ok_or(Fail::CalculateOverflow)?;
        if next != target {
            amount_in = remaining;
        }
        fee
    };
    Ok((next, amount_in, amount_out, fee))
}

/// `liquidity_math::add_delta` (an underflow, a panic in the program, is its error too).
fn add_delta(x: u128, y: i128) -> Result<u128, Fail> {
    if y < 0 {
        match x.checked_sub(y.unsigned_abs()) {
            Some(z) if z < x => Ok(z),
            _ => Err(Fail::LiquiditySubValueErr),
        }
    } else {
        x.checked_add(y.unsigned_abs())
            .ok_or(Fail::LiquidityAddValueErr)
    }
}

/// The swap-relevant state of a pool (the program's `PoolState` fields and its config's
/// trade fee rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub sqrt_price_x64: u128,
    pub liquidity: u128,
    pub tick_current: i32,
    pub tick_spacing: u16,
    /// per 1,000,000 (the config's `trade_fee_rate`)
    pub fee_rate: u32,
    /// 0: on the input, 1: on token 0, 2: on token 1 (others: as 0)
    pub fee_on: u8,
}

impl Pool {
    /// `is_fee_on_input`.
    pub fn fee_on_input(&self, zero_for_one: bool) -> bool {
        match self.fee_on {
            1 => zero_for_one,
            2 => !zero_for_one,
            _ => true,
        }
    }
}

/// What a swap did (field names as `engine_rs.decoded.RaydiumClmmSwap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swap {
    /// input taken from the trader, fee included when the fee is on the input
    pub amount_in: u64,
    /// output paid to the trader
    pub amount_out: u64,
    /// the trade fee (in the input token or the output token, as `fee_on` says)
    pub fee_amount: u64,
    pub sqrt_price_x64: u128,
    pub tick_current: i32,
    pub liquidity: u128,
}

/// The tick range a state's ticks are complete in: every initialized tick `>= lo` (when
/// `lo` is set) and `< hi` (when set) is held; `None`: complete to that end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Complete {
    pub lo: Option<i32>,
    pub hi: Option<i32>,
}

/// The array start of `tick` (`TickArrayState::get_array_start_index`).
pub fn array_start(tick: i32, tick_spacing: u16) -> i32 {
    let n = TICK_ARRAY_SIZE * i32::from(tick_spacing.max(1));
    tick.div_euclid(n) * n
}

/// The program's exact-input swap (`swap_internal` without a price limit: the limit is
/// `MIN_SQRT_PRICE_X64 + 1` or `MAX_SQRT_PRICE_X64 - 1`) over `ticks` (initialized,
/// sorted by index, unique). It may stop early at the price limit (`amount_in <
/// amount`). `complete` says where the ticks are known to be all there; a step that
/// needs a tick past it fails with [`Fail::TicksMissing`].
pub fn swap_exact_in(
    pool: &Pool,
    ticks: &[Tick],
    complete: Complete,
    amount: u64,
    zero_for_one: bool,
) -> Result<Swap, Fail> {
    swap_exact_in_ledger(pool, ticks, complete, amount, zero_for_one, None, None)
}

/// The program's bookkeeping of a swap's trade fee and the ticks it crossed
/// (`SwapState::spilt_fees` and `TickState::cross` of `instructions/swap.rs`), for a
/// caller that writes the accounts the program writes (the simulator): per step, the
/// protocol's and the fund's parts of the fee (each `fee * rate / 1e6`, floored), the
/// rest to the liquidity providers as fee growth (`rest * 2^64 / liquidity`, floored,
/// wrapping), or to the protocol when the step had no liquidity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// the config's rates, per 1,000,000
    pub protocol_fee_rate: u32,
    pub fund_fee_rate: u32,
    pub lp_fee: u64,
    pub protocol_fee: u64,
    pub fund_fee: u64,
    /// the fee growth this swap added on the fee's token (Q64.64, wrapping)
    pub fee_growth_x64: u128,
    /// every tick crossed with its liquidity, in order, with `fee_growth_x64` as it
    /// stood when the swap crossed it (the growth of that step included)
    pub crossings: Vec<(i32, u128)>,
}

impl Ledger {
    /// A ledger of a config's protocol and fund fee rates.
    pub fn new(protocol_fee_rate: u32, fund_fee_rate: u32) -> Self {
        Self {
            protocol_fee_rate,
            fund_fee_rate,
            ..Self::default()
        }
    }

    fn split(&mut self, fee: u64, liquidity: u128) -> Result<(), Fail> {
        let part = |rate: u32| (u128::from(fee) * u128::from(rate) / 1_000_000) as u64;
        let protocol = part(self.protocol_fee_rate);
        let fund = part(self.fund_fee_rate);
        let add = |a: u64, b: u64| a.checked_add(b).ok_or(Fail::CalculateOverflow);
        self.protocol_fee = add(self.protocol_fee, protocol)?;
        self.fund_fee = add(self.fund_fee, fund)?;
        let rest = fee
            .checked_sub(protocol)
            .and_then(|v| v.checked_sub(fund))
            .ok_or(Fail::CalculateOverflow)?;
        // rest < 2^64: the quotient fits u128; no liquidity: the protocol's
        match (u128::from(rest) << 64).checked_div(liquidity) {
            Some(growth) => {
                self.fee_growth_x64 = self.fee_growth_x64.wrapping_add(growth);
                self.lp_fee = add(self.lp_fee, rest)?;
            }
            None => self.protocol_fee = add(self.protocol_fee, rest)?,
        }
        Ok(())
    }
}

/// [`swap_exact_in`], keeping the program's fee bookkeeping in `ledger` when given, and
/// refusing (`NotEnoughTickArrayAccount`) a swap that reads more than `max_arrays`
/// initialized tick arrays when given: the current tick's when it holds an initialized
/// tick, then every array of a tick the swap targets (it reads the array of its next
/// target before it knows whether the amount reaches it).
pub fn swap_exact_in_ledger(
    pool: &Pool,
    ticks: &[Tick],
    complete: Complete,
    amount: u64,
    zero_for_one: bool,
    max_arrays: Option<u32>,
    mut ledger: Option<&mut Ledger>,
) -> Result<Swap, Fail> {
    if amount == 0 {
        return Err(Fail::ZeroAmountSpecified);
    }
    let limit = if zero_for_one {
        MIN_SQRT_PRICE_X64 + 1
    } else {
        MAX_SQRT_PRICE_X64 - 1
    };
    let ok_limit = if zero_for_one {
        limit < pool.sqrt_price_x64
    } else {
        limit > pool.sqrt_price_x64
    };
    if !ok_limit {
        return Err(Fail::SqrtPriceLimitOverflow);
    }
    if !(MIN_TICK..=MAX_TICK).contains(&pool.tick_current) {
        return Err(Fail::TickUpperOverflow); // InvalidTickIndex in the program
    }
    let fee_on_input = pool.fee_on_input(zero_for_one);
    let mut remaining = amount;
    let mut calculated: u64 = 0;
    let mut fees: u64 = 0;
    let mut sqrt = pool.sqrt_price_x64;
    let mut tick = pool.tick_current;
    let mut liquidity = pool.liquidity;
    // the cursor: zero_for_one, ticks[..next] are <= tick; else ticks[next..] are > tick
    let mut next = ticks.partition_point(|t| t.index <= tick);
    let mut first = true;
    // the arrays read so far: the current tick's when it holds an initialized tick
    let current = array_start(tick, pool.tick_spacing);
    let width = TICK_ARRAY_SIZE * i32::from(pool.tick_spacing.max(1));
    let lo = ticks.partition_point(|t| t.index < current);
    let mut read: (u32, Option<i32>) = match ticks.get(lo) {
        Some(t) if t.index < current + width => (1, Some(current)),
        _ => (0, None),
    };
    while remaining != 0 && sqrt != limit {
        let candidate = if zero_for_one {
            next.checked_sub(1).map(|i| {
                next = i;
                ticks[i]
            })
        } else {
            ticks.get(next).map(|&t| {
                next += 1;
                t
            })
        };
        // the edge of the ticks known in the swap's direction, if any
        let edge = if zero_for_one {
            complete.lo
        } else {
            complete.hi
        };
        let past = |t: i32| edge.is_some_and(|e| if zero_for_one { t < e } else { t >= e });
        let (t, at_edge) = match (candidate, edge) {
            (Some(t), _) if !past(t.index) => (t, false),
            // no known tick before the edge: a step may go up to it (nothing initialized
            // lies between), not past it
            (_, Some(e)) => {
                if (zero_for_one && e > tick) || (!zero_for_one && e <= tick) {
                    return Err(Fail::TicksMissing);
                }
                let t = Tick {
                    index: e,
                    liquidity_net: 0,
                    flags: 0,
                };
                (t, true)
            }
            (Some(_), None) => return Err(Fail::TicksMissing), // unreachable: no edge
            (None, None) => {
                let start = array_start(pool.tick_current, pool.tick_spacing);
                let end = start + TICK_ARRAY_SIZE * i32::from(pool.tick_spacing.max(1));
                let current_array_used = ticks
                    .get(ticks.partition_point(|t| t.index < start))
                    .is_some_and(|t| t.index < end);
                return Err(if first && !current_array_used {
                    Fail::InsufficientLiquidityForDirection
                } else {
                    Fail::LiquidityInsufficient
                });
            }
        };
        first = false;
        if let (Some(max), false) = (max_arrays, at_edge) {
            let a = array_start(t.index, pool.tick_spacing);
            if read.1 != Some(a) {
                read = (read.0 + 1, Some(a));
                if read.0 > max {
                    return Err(Fail::NotEnoughTickArrayAccount);
                }
            }
        }
        let tick_next = t.index.clamp(MIN_TICK, MAX_TICK);
        let sqrt_next = sqrt_price_at_tick(tick_next)?;
        let target = if (zero_for_one && sqrt_next < limit) || (!zero_for_one && sqrt_next > limit)
        {
            limit
        } else {
            sqrt_next
        };
        let consistent = if zero_for_one {
            tick >= tick_next && sqrt >= sqrt_next && sqrt >= target
        } else {
            tick_next > tick && sqrt_next >= sqrt && target >= sqrt
        };
        if !consistent {
            return Err(Fail::RequireViolated);
        }
        let mut liquidity_next = liquidity;
        let step_next = if sqrt != target {
            let (p, amount_in, amount_out, fee) = compute_swap_step(
                sqrt,
                target,
                liquidity,
                remaining,
                pool.fee_rate,
                zero_for_one,
                fee_on_input,
            )?;
            let consumed = if fee_on_input {
                amount_in.checked_add(fee).ok_or(Fail::CalculateOverflow)?
            } else {
                amount_in
            };
            remaining = remaining
                .checked_sub(consumed)
                .ok_or(Fail::CalculateOverflow)?;
            calculated = calculated
                .checked_add(amount_out)
                .ok_or(Fail::CalculateOverflow)?;
            fees = fees.checked_add(fee).ok_or(Fail::CalculateOverflow)?;
            if let Some(l) = ledger.as_deref_mut() {
                l.split(fee, liquidity)?;
            }
            p
        } else {
            target
        };
        if at_edge && sqrt_next == step_next {
            return Err(Fail::TicksMissing); // the next tick is past what is known
        }
        if sqrt_next == step_next {
            if t.flags & HAS_LIMIT_ORDERS != 0 {
                return Err(Fail::LimitOrders);
            }
            if t.flags & HAS_LIQUIDITY != 0 {
                let net = if zero_for_one {
                    t.liquidity_net
                        .checked_neg()
                        .ok_or(Fail::CalculateOverflow)?
                } else {
                    t.liquidity_net
                };
                liquidity_next = add_delta(liquidity, net)?;
                if let Some(l) = ledger.as_deref_mut() {
                    l.crossings.push((t.index, l.fee_growth_x64));
                }
            }
            tick = if zero_for_one {
                tick_next - 1
            } else {
                tick_next
            };
        } else if sqrt != step_next {
            tick = tick_at_sqrt_price(step_next)?;
        }
        sqrt = step_next;
        liquidity = liquidity_next;
    }
    let consumed = amount - remaining;
    if consumed == 0 || calculated == 0 {
        return Err(Fail::TooSmallInputOrOutputAmount);
    }
    Ok(Swap {
        amount_in: consumed,
        amount_out: calculated,
        fee_amount: fees,
        sqrt_price_x64: sqrt,
        tick_current: tick,
        liquidity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tick_math.rs: `check_get_sqrt_price_at_tick_at_min_or_max_tick`,
    /// `check_get_tick_at_sqrt_price_at_min_or_max_sqrt_price`, `tick_round_down`.
    #[test]
    fn the_programs_tick_math_vectors() {
        assert_eq!(sqrt_price_at_tick(MIN_TICK), Ok(MIN_SQRT_PRICE_X64));
        assert_eq!(sqrt_price_at_tick(MAX_TICK), Ok(MAX_SQRT_PRICE_X64));
        assert_eq!(tick_at_sqrt_price(MIN_SQRT_PRICE_X64), Ok(MIN_TICK));
        assert_eq!(tick_at_sqrt_price(MAX_SQRT_PRICE_X64 - 1), Ok(MAX_TICK - 1));
        for t in [-28861, 28861] {
            let p = sqrt_price_at_tick(t).expect("in range");
            assert_eq!(tick_at_sqrt_price(p), Ok(t));
            assert_eq!(tick_at_sqrt_price(p + 1), Ok(t));
            let next = sqrt_price_at_tick(t + 1).expect("in range");
            assert_eq!(tick_at_sqrt_price(next - 1), Ok(t));
            assert_eq!(tick_at_sqrt_price(p - 1), Ok(t - 1));
        }
        assert_eq!(
            sqrt_price_at_tick(MAX_TICK + 1),
            Err(Fail::TickUpperOverflow)
        );
        assert_eq!(
            tick_at_sqrt_price(MAX_SQRT_PRICE_X64),
            Err(Fail::SqrtPriceX64)
        );
    }

    /// tick_math.rs `tick_sqrt_price_roundtrip_exhaustive`: every tick below the maximum.
    #[test]
    fn every_tick_round_trips() {
        let mut last = 0u128;
        for t in MIN_TICK..MAX_TICK {
            let p = sqrt_price_at_tick(t).expect("in range");
            assert!(p > last, "{t}");
            last = p;
            assert_eq!(tick_at_sqrt_price(p), Ok(t), "{t}");
        }
    }

    #[test]
    fn a_swap_stops_at_initialized_ticks_only_and_fails_past_the_last() {
        let pool = Pool {
            sqrt_price_x64: sqrt_price_at_tick(0).expect("in range"),
            liquidity: 1_000_000_000_000,
            tick_current: 0,
            tick_spacing: 10,
            fee_rate: 2_500,
            fee_on: 0,
        };
        let ticks = [
            Tick {
                index: -100,
                liquidity_net: 1_000_000_000_000,
                flags: HAS_LIQUIDITY,
            },
            Tick {
                index: 100,
                liquidity_net: -1_000_000_000_000,
                flags: HAS_LIQUIDITY,
            },
        ];
        let r = swap_exact_in(&pool, &ticks, Complete::default(), 1_000_000, true).expect("fills");
        assert_eq!(r.amount_in, 1_000_000);
        assert!(r.fee_amount > 0 && r.amount_out < 1_000_000);
        assert_eq!(
            swap_exact_in(&pool, &ticks, Complete::default(), u64::MAX / 2, true),
            Err(Fail::LiquidityInsufficient)
        );
        // a tick with limit orders reached: refused, never a number
        let orders = [Tick {
            index: -100,
            liquidity_net: 1_000_000_000_000,
            flags: HAS_LIQUIDITY | HAS_LIMIT_ORDERS,
        }];
        assert_eq!(
            swap_exact_in(&pool, &orders, Complete::default(), 10_000_000_000, true),
            Err(Fail::LimitOrders)
        );
        // the ticks below -50 are not known: a swap that stays above it is the full
        // state's; one reaching it has no number
        let part = Complete {
            lo: Some(-50),
            hi: None,
        };
        assert_eq!(
            swap_exact_in(&pool, &ticks, part, 1_000_000, true),
            swap_exact_in(&pool, &ticks, Complete::default(), 1_000_000, true)
        );
        assert_eq!(
            swap_exact_in(&pool, &ticks, part, 10_000_000_000, true),
            Err(Fail::TicksMissing)
        );
        // the ledger: the same swap; the fee split whole; the crossing at -100 with the
        // growth as it stood then, the last step's growth after it
        let nested = [
            ticks[0],
            Tick {
                index: -20,
                liquidity_net: 3_000_000_000_000,
                flags: HAS_LIQUIDITY,
            },
            Tick {
                index: 20,
                liquidity_net: -3_000_000_000_000,
                flags: HAS_LIQUIDITY,
            },
            ticks[1],
        ];
        let wide = Pool {
            liquidity: 4_000_000_000_000,
            ..pool
        };
        let mut ledger = Ledger::new(120_000, 40_000);
        let amount = 8_000_000_000;
        let r = swap_exact_in_ledger(
            &wide,
            &nested,
            Complete::default(),
            amount,
            true,
            None,
            Some(&mut ledger),
        )
        .expect("fills");
        assert_eq!(
            Ok(r),
            swap_exact_in(&wide, &nested, Complete::default(), amount, true)
        );
        assert_eq!(
            ledger.lp_fee + ledger.protocol_fee + ledger.fund_fee,
            r.fee_amount
        );
        let crossed: Vec<i32> = ledger.crossings.iter().map(|c| c.0).collect();
        assert_eq!(crossed, vec![-20]);
        assert!(ledger.crossings[0].1 > 0 && ledger.crossings[0].1 < ledger.fee_growth_x64);
    }

    #[test]
    fn a_quote_reads_at_most_the_arrays_a_swap_names() {
        // spacing 1: arrays of 60 ticks; position edges in the current one and in each of
        // four arrays below it
        let pool = Pool {
            sqrt_price_x64: sqrt_price_at_tick(30).expect("in range"),
            liquidity: 4_000_000,
            tick_current: 30,
            tick_spacing: 1,
            fee_rate: 0,
            fee_on: 0,
        };
        let tick = |index: i32, liquidity_net: i128| Tick {
            index,
            liquidity_net,
            flags: HAS_LIQUIDITY,
        };
        let ticks = [
            tick(-190, 1_000_000),
            tick(-130, 1_000_000),
            tick(-70, 1_000_000),
            tick(-10, 1_000_000),
            tick(50, -4_000_000),
        ];
        let run = |amount: u64, max: Option<u32>| {
            swap_exact_in_ledger(&pool, &ticks, Complete::default(), amount, true, max, None)
        };
        // down to between -10 and -70: it reads the current array, -60's (holding -10)
        // and -120's (its next target -70): three
        let within = run(12_000, Some(SWAP_TICK_ARRAYS)).expect("three arrays");
        assert!((-70..-10).contains(&within.tick_current), "{within:?}");
        assert_eq!(Ok(within), run(12_000, None));
        // past -70: its next target -130 is in a fourth array
        let past = run(20_000, None).expect("fills without a limit");
        assert!(past.tick_current < -70, "{past:?}");
        assert_eq!(
            run(20_000, Some(SWAP_TICK_ARRAYS)),
            Err(Fail::NotEnoughTickArrayAccount)
        );
    }
}

//! Meteora DAMM v2, the `cp-amm` program (twin: `engine_rs/python/venues/meteora_damm_v2.py`):
//! its `Pool` account, its exact-input swap ([`math`]) and its `EvtSwap2` event.
//!
//! Sources: `MeteoraAg/damm-v2` 0.2.1 (`programs/cp-amm/src/state/{pool,fee}.rs`,
//! `base_fee/`, `liquidity_handler/`, `math/`, `instructions/swap/`, `event.rs`) and its
//! Rust SDK's `quote_exact_in`, whose quotes on real pool accounts are the oracle
//! (`tests/engine/test_meteora_damm_v2.py`).
//!
//! The pool account (1,112 bytes) has Anchor's `account:Pool` discriminator, which
//! PumpSwap's pool shares: it is told by its owner. Everything a swap reads is in it: the
//! fee (a base fee of five modes, a dynamic fee, the protocol/referral/compounding split),
//! the curve (one range of concentrated liquidity, or constant product on the reserves the
//! pool tracks for a compounding pool), the status and the activation point. The base
//! fee's schedulers and the activation read the clock: the slot or the unix time, as the
//! pool's `activation_type` says, read by the program from `Clock::get()`. So a pool
//! follows the Clock sysvar (role `clock`, as a DLMM pair does) and quotes at its point;
//! until the sysvar is seen, at the upsert's slot for a pool activated by slot and at the
//! dynamic fee's `last_update_timestamp` (the latest time the account proves the program
//! saw; 0 without a dynamic fee, so such a pool quotes nothing until the clock comes).
//!
//! Fees: the fee numerator (per 10^9) is the base fee plus the variable fee of the stored
//! volatility accumulator, capped by the fee version (50 % or 99 %); it comes off the
//! output, except for b -> a in the collect-fee modes `OnlyB` and `Compounding`, where it
//! comes off the input. The program updates the volatility references before a swap, but
//! the fee it charges reads only the accumulator, which the swap changes after. Its event
//! is emitted by self-CPI (`EvtSwap2`), not logged.

pub mod math;

use crate::b58;
use crate::decode::{check, clock_slot_and_time, Key, R, SYSVAR_CLOCK};
use crate::error::Result;

use super::{Assembly, NoQuote, OwnAccount, OwnRole, Updated, Venue};
use math::{BaseFee, Curve, Dynamic, Fail, Split};

/// The cp-amm program.
pub const PROGRAM_ID: &str = "cpamdpZCGKUy5JxQXB4dcpGPiikHawvSWAd6mEn1sGG";
pub const PROGRAM: Key = b58::key(PROGRAM_ID);
/// `account:Pool` (PumpSwap's pool has the same).
pub const DISC_POOL: [u8; 8] = [241, 154, 109, 4, 17, 177, 109, 188];
/// `event:EvtSwap2`.
pub const DISC_EVT_SWAP2: [u8; 8] = [189, 66, 51, 168, 38, 80, 117, 153];
/// `Pool` with its discriminator.
pub const POOL_SIZE: usize = 1_112;
/// `EvtSwap2` with its discriminator.
pub const EVT_SWAP2_SIZE: usize = 8 + 180;
/// Role number of the Clock sysvar in [`Venue::OWN_ROLES`].
pub const CLOCK: u8 = 0;
/// Collect-fee modes.
pub const BOTH_TOKEN: u8 = 0;
pub const ONLY_B: u8 = 1;
pub const COMPOUNDING: u8 = 2;

/// The decoded `Pool` (fields as `engine_rs.decoded.MeteoraDammPool`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DammPool {
    /// The `BaseFeeInfo`'s 32 bytes ([`BaseFee::from_bytes`]).
    pub base_fee: [u8; 32],
    pub protocol_fee_percent: u8,
    pub referral_fee_percent: u8,
    pub compounding_fee_bps: u16,
    /// The dynamic fee (`DynamicFeeStruct`).
    pub dynamic_fee_initialized: u8,
    pub max_volatility_accumulator: u32,
    pub variable_fee_control: u32,
    pub bin_step: u16,
    pub filter_period: u16,
    pub decay_period: u16,
    pub dynamic_reduction_factor: u16,
    pub last_update_timestamp: u64,
    pub bin_step_u128: u128,
    pub sqrt_price_reference: u128,
    pub volatility_accumulator: u128,
    pub volatility_reference: u128,
    pub init_sqrt_price: u128,
    pub token_a_mint: Key,
    pub token_b_mint: Key,
    pub token_a_vault: Key,
    pub token_b_vault: Key,
    pub whitelisted_vault: Key,
    pub liquidity: u128,
    pub protocol_a_fee: u64,
    pub protocol_b_fee: u64,
    pub sqrt_min_price: u128,
    pub sqrt_max_price: u128,
    pub sqrt_price: u128,
    pub activation_point: u64,
    /// 0: by slot, 1: by unix time.
    pub activation_type: u8,
    /// 0: enabled, 1: disabled.
    pub pool_status: u8,
    /// 0: SPL Token, 1: Token-2022.
    pub token_a_flag: u8,
    pub token_b_flag: u8,
    pub collect_fee_mode: u8,
    pub pool_type: u8,
    pub fee_version: u8,
    pub permanent_lock_liquidity: u128,
    pub creator: Key,
    pub token_a_amount: u64,
    pub token_b_amount: u64,
    pub layout_version: u8,
}

/// DAMM v2 `Pool` (offsets from `state/pool.rs` and `state/fee.rs`, discriminator first).
pub fn decode_meteora_damm_pool(data: &[u8], owner: Option<&Key>) -> Result<DammPool> {
    let r = check(data, "Pool", POOL_SIZE, &[DISC_POOL], owner, &[&PROGRAM])?;
    Ok(DammPool {
        base_fee: r.bytes(8)?,
        protocol_fee_percent: r.u8(48)?,
        referral_fee_percent: r.u8(50)?,
        compounding_fee_bps: r.u16(54)?,
        dynamic_fee_initialized: r.u8(56)?,
        max_volatility_accumulator: r.u32(64)?,
        variable_fee_control: r.u32(68)?,
        bin_step: r.u16(72)?,
        filter_period: r.u16(74)?,
        decay_period: r.u16(76)?,
        dynamic_reduction_factor: r.u16(78)?,
        last_update_timestamp: r.u64(80)?,
        bin_step_u128: r.u128(88)?,
        sqrt_price_reference: r.u128(104)?,
        volatility_accumulator: r.u128(120)?,
        volatility_reference: r.u128(136)?,
        init_sqrt_price: r.u128(152)?,
        token_a_mint: r.key(168)?,
        token_b_mint: r.key(200)?,
        token_a_vault: r.key(232)?,
        token_b_vault: r.key(264)?,
        whitelisted_vault: r.key(296)?,
        liquidity: r.u128(360)?,
        protocol_a_fee: r.u64(392)?,
        protocol_b_fee: r.u64(400)?,
        sqrt_min_price: r.u128(424)?,
        sqrt_max_price: r.u128(440)?,
        sqrt_price: r.u128(456)?,
        activation_point: r.u64(472)?,
        activation_type: r.u8(480)?,
        pool_status: r.u8(481)?,
        token_a_flag: r.u8(482)?,
        token_b_flag: r.u8(483)?,
        collect_fee_mode: r.u8(484)?,
        pool_type: r.u8(485)?,
        fee_version: r.u8(486)?,
        permanent_lock_liquidity: r.u128(552)?,
        creator: r.key(648)?,
        token_a_amount: r.u64(680)?,
        token_b_amount: r.u64(688)?,
        layout_version: r.u8(696)?,
    })
}

decoded_by!(DammPool, decode_meteora_damm_pool);

/// What a swap of a pool is priced with: its quote state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DammState {
    pub base_fee: BaseFee,
    pub dynamic: Dynamic,
    pub protocol_fee_percent: u8,
    pub referral_fee_percent: u8,
    pub compounding_fee_bps: u16,
    pub init_sqrt_price: u128,
    /// The pool's price as stored (the market-cap scheduler reads it; a compounding
    /// pool's curve is its reserves).
    pub sqrt_price: u128,
    pub curve: Curve,
    pub collect_fee_mode: u8,
    pub fee_version: u8,
    pub activation_type: u8,
    pub activation_point: u64,
    pub pool_status: u8,
    /// The clock's point the swap is priced at: a slot or a unix time, as
    /// `activation_type` says.
    pub point: u64,
}

/// An exact-input swap as the program computes it (`SwapResult2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwapResult {
    pub included_fee_input_amount: u64,
    pub excluded_fee_input_amount: u64,
    pub output_amount: u64,
    /// The price after (for a compounding pool, of its reserves after).
    pub next_sqrt_price: u128,
    pub trade_fee_numerator: u64,
    pub fee: Split,
    /// The fee came off the input (b -> a in modes `OnlyB` and `Compounding`).
    pub fees_on_input: bool,
}

/// The quote state of a pool account priced at `point` (see [`DammState::point`]).
pub fn state_of(r: &DammPool, point: u64) -> DammState {
    let curve = if r.collect_fee_mode == COMPOUNDING {
        Curve::Compounding {
            token_a_amount: r.token_a_amount,
            token_b_amount: r.token_b_amount,
        }
    } else {
        Curve::Concentrated {
            liquidity: r.liquidity,
            sqrt_price: r.sqrt_price,
            sqrt_min_price: r.sqrt_min_price,
            sqrt_max_price: r.sqrt_max_price,
        }
    };
    DammState {
        base_fee: BaseFee::from_bytes(&r.base_fee),
        dynamic: Dynamic {
            initialized: r.dynamic_fee_initialized != 0,
            bin_step: r.bin_step,
            variable_fee_control: r.variable_fee_control,
            volatility_accumulator: r.volatility_accumulator,
        },
        protocol_fee_percent: r.protocol_fee_percent,
        referral_fee_percent: r.referral_fee_percent,
        compounding_fee_bps: r.compounding_fee_bps,
        init_sqrt_price: r.init_sqrt_price,
        sqrt_price: r.sqrt_price,
        curve,
        collect_fee_mode: r.collect_fee_mode,
        fee_version: r.fee_version,
        activation_type: r.activation_type,
        activation_point: r.activation_point,
        pool_status: r.pool_status,
        point,
    }
}

/// The compute-unit model's steps of a compounding pool's swap (its curve on the
/// tracked reserves costs the program about four steps more than a concentrated one's).
pub const COMPOUNDING_STEPS: u32 = 4;

impl DammState {
    /// The steps a swap of this pool takes in its venue's compute-unit model: one for
    /// the dynamic fee, [`COMPOUNDING_STEPS`] for the compounding curve.
    pub fn cu_steps(&self) -> u32 {
        let compounding = matches!(self.curve, Curve::Compounding { .. });
        u32::from(self.dynamic.initialized) + if compounding { COMPOUNDING_STEPS } else { 0 }
    }

    /// Whether the fee of a swap in this direction comes off its input (`FeeMode`).
    pub fn fees_on_input(&self, a_to_b: bool) -> bool {
        !a_to_b && (self.collect_fee_mode == ONLY_B || self.collect_fee_mode == COMPOUNDING)
    }

    /// Whether the program lets anyone but the whitelisted vault swap now: enabled and
    /// at or past its activation point.
    pub fn check_access(&self) -> math::R<()> {
        if self.activation_type > 1 {
            return Err(Fail::InvalidActivationType);
        }
        if self.pool_status != 0 || self.point < self.activation_point {
            return Err(Fail::PoolDisabled);
        }
        Ok(())
    }

    /// The fee numerator of a swap of `included` in (fees included), capped.
    pub fn fee_numerator(&self, included: u64, a_to_b: bool) -> math::R<u64> {
        if self.collect_fee_mode > COMPOUNDING {
            return Err(Fail::TypeCastFailed);
        }
        let cap = math::max_fee_numerator(self.fee_version)?;
        let base = self.base_fee.numerator(
            self.point,
            self.activation_point,
            a_to_b,
            included,
            self.init_sqrt_price,
            self.sqrt_price,
        )?;
        math::total_fee_numerator(base, &self.dynamic, cap)
    }

    /// The program's exact-input swap of `amount` (after any Token-2022 transfer fee),
    /// without a referral account: `get_swap_result_from_exact_input`, after its access
    /// check. The price after is the pool's as `apply_swap_result` leaves it.
    pub fn swap(&self, amount: u64, a_to_b: bool, has_referral: bool) -> math::R<SwapResult> {
        self.check_access()?;
        if amount == 0 {
            return Err(Fail::AmountIsZero);
        }
        let numerator = self.fee_numerator(amount, a_to_b)?;
        let on_input = self.fees_on_input(a_to_b);
        let fee_on = |x: u64| {
            math::fee_on_amount(
                x,
                numerator,
                self.protocol_fee_percent,
                self.referral_fee_percent,
                self.compounding_fee_bps,
                has_referral,
            )
        };
        let (excluded, mut split) = if on_input {
            fee_on(amount)?
        } else {
            (amount, Split::default())
        };
        let (out, mut next) = self.curve.swap_in(excluded, a_to_b)?;
        let output = if on_input {
            out
        } else {
            let (left, s) = fee_on(out)?;
            split = s;
            left
        };
        if let Curve::Compounding {
            token_a_amount,
            token_b_amount,
        } = self.curve
        {
            next = self.compounded_price(
                token_a_amount,
                token_b_amount,
                excluded,
                out,
                &split,
                a_to_b,
            )?;
        }
        Ok(SwapResult {
            included_fee_input_amount: amount,
            excluded_fee_input_amount: excluded,
            output_amount: output,
            next_sqrt_price: next,
            trade_fee_numerator: numerator,
            fee: split,
            fees_on_input: on_input,
        })
    }

    /// A compounding pool's price after a swap (`apply_swap_result`): its reserves take
    /// the input after any input fee, give the output with any output fee, and keep the
    /// compounding fee (always in b).
    fn compounded_price(
        &self,
        a: u64,
        b: u64,
        excluded: u64,
        gross_out: u64,
        split: &Split,
        a_to_b: bool,
    ) -> math::R<u128> {
        let (a, b) = if a_to_b {
            (
                a.checked_add(excluded).ok_or(Fail::MathOverflow)?,
                b.checked_sub(gross_out).ok_or(Fail::MathOverflow)?,
            )
        } else {
            (
                a.checked_sub(gross_out).ok_or(Fail::MathOverflow)?,
                b.checked_add(excluded).ok_or(Fail::MathOverflow)?,
            )
        };
        let b = b
            .checked_add(split.compounding_fee)
            .ok_or(Fail::MathOverflow)?;
        math::sqrt_price_from_amounts(a, b)
    }
}

/// One exact-input swap of a pool account at `point` (slot or unix time, as the pool is
/// activated): the program's result, or the name of its error.
pub fn swap_raw(
    pool: &[u8],
    point: u64,
    amount: u64,
    a_to_b: bool,
    has_referral: bool,
) -> Result<std::result::Result<SwapResult, &'static str>> {
    let r = decode_meteora_damm_pool(pool, None)?;
    Ok(state_of(&r, point)
        .swap(amount, a_to_b, has_referral)
        .map_err(Fail::name))
}

/// `EvtSwap2` (emitted by self-CPI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapEvent {
    pub pool: Key,
    /// 0: a -> b, 1: b -> a.
    pub trade_direction: u8,
    pub collect_fee_mode: u8,
    pub has_referral: bool,
    /// amount_0, amount_1 (exact in: amount in, minimum out); swap_mode (0: exact in,
    /// 1: partial fill, 2: exact out).
    pub amount_0: u64,
    pub amount_1: u64,
    pub swap_mode: u8,
    pub included_fee_input_amount: u64,
    pub excluded_fee_input_amount: u64,
    pub amount_left: u64,
    pub output_amount: u64,
    pub next_sqrt_price: u128,
    pub claiming_fee: u64,
    pub protocol_fee: u64,
    pub compounding_fee: u64,
    pub referral_fee: u64,
    pub included_transfer_fee_amount_in: u64,
    pub included_transfer_fee_amount_out: u64,
    pub excluded_transfer_fee_amount_out: u64,
    pub current_timestamp: u64,
    pub reserve_a_amount: u64,
    pub reserve_b_amount: u64,
}

fn parse_swap_event(raw: &[u8]) -> Result<SwapEvent> {
    let r = R::event(raw, "EvtSwap2", EVT_SWAP2_SIZE, "event")?;
    Ok(SwapEvent {
        pool: r.key(8)?,
        trade_direction: r.u8(40)?,
        collect_fee_mode: r.u8(41)?,
        has_referral: r.flag(42)?,
        amount_0: r.u64(43)?,
        amount_1: r.u64(51)?,
        swap_mode: r.u8(59)?,
        included_fee_input_amount: r.u64(60)?,
        excluded_fee_input_amount: r.u64(68)?,
        amount_left: r.u64(76)?,
        output_amount: r.u64(84)?,
        next_sqrt_price: r.u128(92)?,
        claiming_fee: r.u64(108)?,
        protocol_fee: r.u64(116)?,
        compounding_fee: r.u64(124)?,
        referral_fee: r.u64(132)?,
        included_transfer_fee_amount_in: r.u64(140)?,
        included_transfer_fee_amount_out: r.u64(148)?,
        excluded_transfer_fee_amount_out: r.u64(156)?,
        current_timestamp: r.u64(164)?,
        reserve_a_amount: r.u64(172)?,
        reserve_b_amount: r.u64(180)?,
    })
}

/// What the ingest keeps of a pool's own accounts: the Clock sysvar's slot and unix
/// time, once seen.
#[derive(Debug, Default)]
pub struct Clock {
    pub seen: Option<(u64, u64)>,
}

fn own_clock(role: u8, cx: &OwnAccount<'_>) -> Result<(u64, u64)> {
    if role != CLOCK {
        return Err(super::no_role(MeteoraDammV2::INFO, role));
    }
    clock_slot_and_time(cx.data, cx.owner)
}

impl super::Curve for DammState {
    #[inline]
    fn quote_checked(&self, amount: u64, a_to_b: bool) -> std::result::Result<u64, NoQuote> {
        if amount == 0 {
            return Ok(0);
        }
        self.swap(amount, a_to_b, false)
            .map(|r| r.output_amount)
            .map_err(|_| NoQuote::Unfillable)
    }

    /// The quote with the steps its compute-unit model counts (`COMPUTE_UNITS` in
    /// `feeds/venues/meteora_damm_v2/__init__.py`, fitted to the program): the dynamic fee
    /// one, the compounding curve [`COMPOUNDING_STEPS`]; a Token-2022 side is the caller's.
    fn quote_steps(&self, amount: u64, a_to_b: bool) -> std::result::Result<(u64, u32), NoQuote> {
        self.quote_checked(amount, a_to_b)
            .map(|out| (out, self.cu_steps()))
    }

    /// Output per input after the fee at zero size (f64, the twin's operations); the
    /// smallest positive float when no swap is possible (an edge no cycle takes).
    fn spot_rate(&self, a_to_b: bool) -> f64 {
        let Ok(numerator) = self
            .check_access()
            .and_then(|()| self.fee_numerator(0, a_to_b))
        else {
            return f64::MIN_POSITIVE;
        };
        let price = match self.curve {
            Curve::Concentrated { sqrt_price, .. } => {
                let s = sqrt_price as f64 / 18_446_744_073_709_551_616.0;
                s * s
            }
            Curve::Compounding {
                token_a_amount,
                token_b_amount,
            } => token_b_amount as f64 / token_a_amount as f64,
        };
        let keep = 1.0 - numerator as f64 / 1e9;
        let rate = if a_to_b { price * keep } else { keep / price };
        if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            f64::MIN_POSITIVE
        }
    }
}

/// The Meteora DAMM v2 venue.
pub struct MeteoraDammV2;

impl Venue for MeteoraDammV2 {
    venue_items! {
        info "meteora_damm_v2", "damm_v2", "damm", "damm", [PROGRAM_ID], POOL_SIZE;
        types DammPool, Clock, DammState, SwapEvent;
        // mints, vaults, token programs, collect-fee mode, activation type and creator
        identity token_a_mint, token_b_mint, token_a_vault, token_b_vault, token_a_flag,
            token_b_flag, collect_fee_mode, activation_type, creator;
        mints token_a_mint, token_b_mint;
        vaults token_a_vault, token_b_vault;
    }
    const OWN_ROLES: &'static [OwnRole] = &[OwnRole::named("clock")];

    /// The Clock sysvar (what the program prices and activates at).
    fn followed(_r: &DammPool, out: &mut Vec<(u8, Key)>) {
        out.push((CLOCK, SYSVAR_CLOCK));
    }

    fn own_account(own: &mut Clock, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        own.seen = Some(own_clock(role, cx)?);
        Ok(())
    }

    /// The pool at the clock's point (see the module docs for the point before the
    /// sysvar is seen). The vaults are not read: the curve is the pool account's.
    fn update(own: &mut Self::Own, r: &Self::Record, cx: &mut Assembly) -> Updated<Self::State> {
        let slot = cx.slot()?;
        cx.check_ids()?;
        let point = match (own.seen, r.activation_type) {
            (Some((s, _)), 0) => s,
            (Some((_, t)), _) => t,
            (None, 0) => slot,
            (None, _) if r.dynamic_fee_initialized != 0 => r.last_update_timestamp,
            (None, _) => 0,
        };
        Ok(Some((state_of(r, point), slot)))
    }

    /// `EvtSwap2`.
    fn parse_event(raw: &[u8]) -> Option<Result<SwapEvent>> {
        (raw.get(..8) == Some(&DISC_EVT_SWAP2[..])).then(|| parse_swap_event(raw))
    }
}

#[cfg(test)]
mod tests;

//! PumpSwap, the Pump AMM (twin: `engine_rs/python/venues/pump_amm.py`): the `Pool` and
//! `GlobalConfig` accounts, its constant product with its fee split, its PDAs and its
//! Anchor `BuyEvent` / `SellEvent`.
//!
//! Sources (`pump-fun/pump-public-docs`, 2026-05-19): `idl/pump_amm.json` (layouts,
//! discriminators, instruction accounts, events, error codes), `docs/PUMP_SWAP_README.md`
//! (GlobalConfig PDA, pool PDA seeds), `docs/PUMP_SWAP_CREATOR_FEE_README.md` (the coin
//! creator fee, charged only when `Pool::coin_creator` is set). The swap arithmetic is
//! the official SDK's (`@pump-fun/pump-swap-sdk`: `sellBaseInput`, `exactQuoteInFees`,
//! `fee` = ceil(amount · bps / 10 000)) checked against real mainnet events (see
//! `tests/engine/test_pump_amm.py`).
//!
//! Mint a is the pool's base mint, b its quote mint; a -> b is `sell` (base in, exact),
//! b -> a is `buy_exact_quote_in` (quote in, exact):
//! - sell: `gross = ⌊Q·x / (B + x)⌋`; lp, protocol and creator fees are each
//!   `⌈gross·bps / 10 000⌉`; the seller gets `gross − fees` (the fees come off the output).
//! - buy_exact_quote_in: `net = ⌊S·10 000 / (10 000 + lp + protocol + creator bps)⌋`, the
//!   fees `⌈net·bps / 10 000⌉` each, `net` shaved by any excess of `net + fees` over `S`;
//!   the base out is `⌊B·(net − 1) / (Q + net − 1)⌋` (the program feeds the curve one
//!   unit less: real `BuyEvent`s reproduce only with it).
//!
//! The reserves are the two vault balances (the LP fee stays in the quote vault; the
//! protocol and creator fees leave it). The fee rates are the fee program's
//! (`pump_fees` `FeeConfig`, docs/FEE_PROGRAM_README.md, mandatory since 2025-09): a
//! canonical Pump pool pays the tier of its market cap (quote reserve × base mint supply
//! / base reserve), another pool the flat fees; so a pool follows the `FeeConfig`, its
//! base mint (the supply) and the `GlobalConfig` (the disable flags), at their PDAs. The
//! quote the curve prices with is the vault plus the pool's `virtual_quote_reserves`
//! (pools of launchpad coins since 2026-07: a field after the mirrored IDL, decoded as
//! public integrations of the current IDL do; real events reproduce only with it), and a
//! sell never pays out more than the vault. Not modelled: cashback coins' cashback.

use crate::b58;
use crate::decode::{self, check, Key, Layout, R};
use crate::derive::find_program_address;
use crate::error::{EngineError, Result};

use super::{Assembly, Curve, NoQuote, OwnAccount, OwnRole, Updated, Venue};

/// The PumpSwap program.
pub const PROGRAM_ID: &str = "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA";
pub const PROGRAM: Key = b58::key(PROGRAM_ID);
/// The Pump bonding-curve program (its `pool-authority` PDA creates canonical pools).
pub const PUMP_PROGRAM_ID: &str = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P";
/// The one `GlobalConfig`, PDA of `["global_config"]` (docs/PUMP_SWAP_README.md).
pub const GLOBAL_CONFIG_ID: &str = "ADyA8hdefvWN2dbGGWFotbzWxrAvLW83WG6QCVXvJKqw";
pub const GLOBAL_CONFIG_KEY: Key = b58::key(GLOBAL_CONFIG_ID);
/// The fee program (IDL: `fee_program`) and its `FeeConfig` of this program, PDA of
/// `["fee_config", pump_amm program id]` under it.
pub const FEE_PROGRAM_ID: &str = "pfeeUxB6jkeY1Hxd7CsFCAjcbHA9rWtchMGdZ6VojVZ";
pub const FEE_PROGRAM: Key = b58::key(FEE_PROGRAM_ID);
pub const FEE_CONFIG_ID: &str = "5PHirr8joyTMp9JMm6nW7hNDVyEYdkzDqazxPD7RaTjx";
pub const FEE_CONFIG_KEY: Key = b58::key(FEE_CONFIG_ID);
/// The quote mint whose canonical pools pay the stable tiers (`stable_fee_tiers`).
pub const USDC: Key = b58::key("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
/// The circulating supply a mayhem-mode pool's market cap is computed with.
pub const MAYHEM_SUPPLY: u64 = 1_000_000_000_000_000;
/// sha256("account:FeeConfig")[..8] (pump_fees IDL).
pub const DISC_FEE_CONFIG: [u8; 8] = [143, 52, 146, 187, 219, 123, 76, 155];
/// sha256("account:Pool")[..8] (IDL).
pub const DISC_POOL: [u8; 8] = [241, 154, 109, 4, 17, 177, 109, 188];
/// sha256("account:GlobalConfig")[..8] (IDL).
pub const DISC_GLOBAL_CONFIG: [u8; 8] = [149, 8, 156, 202, 160, 252, 176, 217];
/// sha256("event:BuyEvent")[..8] (IDL).
pub const DISC_BUY_EVENT: [u8; 8] = [103, 244, 82, 31, 44, 245, 119, 119];
/// sha256("event:SellEvent")[..8] (IDL).
pub const DISC_SELL_EVENT: [u8; 8] = [62, 47, 55, 10, 165, 3, 220, 42];
/// `Pool` with its discriminator through `lp_supply`, the first layout (211 bytes). The
/// fields added since are read when the account holds them: `coin_creator` (243 bytes),
/// `is_mayhem_mode` and `is_cashback_coin` (245); pools are extended to 300 bytes
/// (docs/PUMP_SWAP_CREATOR_FEE_README.md) and the rest is ignored.
pub const POOL_SIZE: usize = 211;
/// The whole IDL `Pool` with its discriminator, as pools are written today (300 bytes).
pub const POOL_LEN: usize = 300;
/// `GlobalConfig` with its discriminator through `protocol_fee_recipients` (313 bytes);
/// `coin_creator_fee_basis_points` is read when the account holds it (321), else 0.
pub const GLOBAL_CONFIG_SIZE: usize = 313;
/// The fixed head of `BuyEvent` / `SellEvent`: discriminator, 14 u64 fields and the pool.
pub const EVENT_HEAD: usize = 8 + 14 * 8 + 32;
/// Basis points are per this.
pub const BPS_DEN: u64 = 10_000;
/// `disable_flags` bit of `buy` (IDL: bit 3) and `sell` (bit 4).
pub const DISABLE_BUY: u8 = 1 << 3;
pub const DISABLE_SELL: u8 = 1 << 4;
/// `FeeConfig` with its discriminator through the length of `fee_tiers`.
pub const FEE_CONFIG_SIZE: usize = 69;
/// Role numbers in [`Venue::OWN_ROLES`]: the `GlobalConfig`, the fee program's
/// `FeeConfig`, the pool's base mint (its supply sets the market cap).
pub const GLOBAL_CONFIG: u8 = 0;
pub const FEE_CONFIG: u8 = 1;
pub const BASE_MINT: u8 = 2;

/// The decoded `Pool` (fields as `engine_rs.decoded.PumpAmmPool`).
#[derive(Debug, Clone, PartialEq)]
pub struct PumpAmmPool {
    pub pool_bump: u8,
    pub index: u16,
    /// creator, base_mint, quote_mint, lp_mint, pool_base_token_account,
    /// pool_quote_token_account
    pub keys: [Key; 6],
    pub lp_supply: u64,
    /// Default (zeros) when the pool has none: no creator fee then.
    pub coin_creator: Key,
    pub is_mayhem_mode: bool,
    pub is_cashback_coin: bool,
    /// Quote the curve prices with beyond the vault (i128 at 245, in pools of 261 bytes
    /// or more; 0 otherwise): not in the mirrored IDL (2026-05) but in the current one
    /// public integrations decode (`pump-swap-sdk` >= 1.19, launchpad coins since
    /// 2026-07-20); real events reproduce only with it (see the tests).
    pub virtual_quote_reserves: i128,
}

/// PumpSwap `Pool`.
pub fn decode_pump_amm_pool(data: &[u8], owner: Option<&Key>) -> Result<PumpAmmPool> {
    let r = check(data, "Pool", POOL_SIZE, &[DISC_POOL], owner, &[&PROGRAM])?;
    let keys: [Key; 6] = r.array(11, 32, R::key)?;
    Ok(PumpAmmPool {
        pool_bump: r.u8(8)?,
        index: r.u16(9)?,
        keys,
        lp_supply: r.u64(203)?,
        coin_creator: if data.len() >= 243 {
            r.key(211)?
        } else {
            [0u8; 32]
        },
        is_mayhem_mode: data.len() >= 245 && r.flag(243)?,
        is_cashback_coin: data.len() >= 245 && r.flag(244)?,
        virtual_quote_reserves: if data.len() >= 261 { r.i128(245)? } else { 0 },
    })
}

decoded_by!(PumpAmmPool, decode_pump_amm_pool);

/// The decoded `GlobalConfig` (fields as `engine_rs.decoded.PumpAmmGlobalConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct PumpAmmGlobalConfig {
    pub admin: Key,
    pub lp_fee_basis_points: u64,
    pub protocol_fee_basis_points: u64,
    pub disable_flags: u8,
    pub protocol_fee_recipients: [Key; 8],
    pub coin_creator_fee_basis_points: u64,
}

/// PumpSwap `GlobalConfig`.
pub fn decode_pump_amm_global_config(
    data: &[u8],
    owner: Option<&Key>,
) -> Result<PumpAmmGlobalConfig> {
    let r = Layout(
        "GlobalConfig",
        GLOBAL_CONFIG_SIZE,
        &[DISC_GLOBAL_CONFIG],
        &[&PROGRAM],
    )
    .check(data, owner)?;
    let recipients: [Key; 8] = r.array(57, 32, R::key)?;
    Ok(PumpAmmGlobalConfig {
        admin: r.key(8)?,
        lp_fee_basis_points: r.u64(40)?,
        protocol_fee_basis_points: r.u64(48)?,
        disable_flags: r.u8(56)?,
        protocol_fee_recipients: recipients,
        coin_creator_fee_basis_points: if data.len() >= 321 { r.u64(313)? } else { 0 },
    })
}

/// Fee rates in bps: lp, protocol, creator (pump_fees `Fees`).
pub type Fees = [u64; 3];

/// The decoded pump_fees `FeeConfig` (fields as `engine_rs.decoded.PumpFeeConfig`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PumpFeeConfig {
    pub bump: u8,
    pub admin: Key,
    /// What pools not created by the Pump program pay.
    pub flat_fees: Fees,
    /// Canonical pools' rates by market cap: (threshold in quote base units, fees),
    /// thresholds rising.
    pub fee_tiers: Vec<(u128, Fees)>,
    /// The same for USDC-quoted canonical pools (empty in accounts older than it).
    pub stable_fee_tiers: Vec<(u128, Fees)>,
}

fn fee_tiers(r: &R<'_>, off: usize) -> Result<(Vec<(u128, Fees)>, usize)> {
    let n = r.u32(off)? as usize;
    let need = n.checked_mul(40).and_then(|b| b.checked_add(off + 4));
    if need.is_none_or(|end| end > r.d.len()) {
        return Err(EngineError::AccountTooShort(format!(
            "FeeConfig: {n} fee tiers at {off} do not fit in {} bytes",
            r.d.len()
        )));
    }
    let mut tiers = Vec::with_capacity(n);
    for i in 0..n {
        let o = off + 4 + 40 * i;
        tiers.push((r.u128(o)?, [r.u64(o + 16)?, r.u64(o + 24)?, r.u64(o + 32)?]));
    }
    Ok((tiers, off + 4 + 40 * n))
}

/// pump_fees `FeeConfig` (owner: the fee program).
pub fn decode_pump_fee_config(data: &[u8], owner: Option<&Key>) -> Result<PumpFeeConfig> {
    let r = Layout(
        "FeeConfig",
        FEE_CONFIG_SIZE,
        &[DISC_FEE_CONFIG],
        &[&FEE_PROGRAM],
    )
    .check(data, owner)?;
    let (fee_tiers_, end) = fee_tiers(&r, 65)?;
    let stable = if data.len() >= end + 4 {
        fee_tiers(&r, end)?.0
    } else {
        Vec::new()
    };
    Ok(PumpFeeConfig {
        bump: r.u8(8)?,
        admin: r.key(9)?,
        flat_fees: [r.u64(41)?, r.u64(49)?, r.u64(57)?],
        fee_tiers: fee_tiers_,
        stable_fee_tiers: stable,
    })
}

/// pump-fees-math `calculate_fee_tier` (docs/FEE_PROGRAM_README.md): the first tier
/// below its threshold, else the last tier whose threshold the market cap reaches.
/// `None` for no tiers.
pub fn fee_tier(tiers: &[(u128, Fees)], market_cap: u128) -> Option<Fees> {
    let first = tiers.first()?;
    if market_cap < first.0 {
        return Some(first.1);
    }
    Some(
        tiers
            .iter()
            .rev()
            .find(|t| market_cap >= t.0)
            .map_or(first.1, |t| t.1),
    )
}

/// The fee rates a swap on the pool pays (docs/FEE_PROGRAM_README.md `computeFeesBps`):
/// a canonical Pump pool (its creator is the Pump program's pool authority of its base
/// mint) pays the tier of its market cap, `quote_reserve · supply / base_reserve` (a
/// mayhem pool's supply is [`MAYHEM_SUPPLY`]), from the stable tiers when it is quoted in
/// USDC and they exist; another pool pays the flat fees. The creator's rate only applies
/// with a coin creator. `None` without tiers for a canonical pool.
pub fn pool_fees(
    cfg: &PumpFeeConfig,
    canonical: bool,
    r: &PumpAmmPool,
    reserves: (u64, u64),
    supply: u64,
) -> Option<Fees> {
    let mut fees = if canonical {
        let supply = if r.is_mayhem_mode {
            MAYHEM_SUPPLY
        } else {
            supply
        };
        let cap = u128::from(reserves.1) * u128::from(supply) / u128::from(reserves.0.max(1));
        let tiers = if r.keys[2] == USDC && !cfg.stable_fee_tiers.is_empty() {
            &cfg.stable_fee_tiers
        } else {
            &cfg.fee_tiers
        };
        fee_tier(tiers, cap)?
    } else {
        cfg.flat_fees
    };
    if r.coin_creator == [0u8; 32] {
        fees[2] = 0;
    }
    Some(fees)
}

/// A `BuyEvent` or `SellEvent`: the fixed head both share (the IDL's first 14 fields and
/// the pool), and the coin creator fee when the event carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct PumpSwapEvent {
    /// True for `BuyEvent`.
    pub buy: bool,
    pub timestamp: i64,
    /// base_amount_out / base_amount_in, max_quote_amount_in / min_quote_amount_out,
    /// user_base_token_reserves, user_quote_token_reserves, pool_base_token_reserves,
    /// pool_quote_token_reserves, quote_amount_in / quote_amount_out,
    /// lp_fee_basis_points, lp_fee, protocol_fee_basis_points, protocol_fee,
    /// quote_amount_in_with_lp_fee / quote_amount_out_without_lp_fee,
    /// user_quote_amount_in / user_quote_amount_out
    pub amounts: [u64; 13],
    pub pool: Key,
    /// coin_creator_fee_basis_points, coin_creator_fee (events since the creator fee).
    pub creator_fee: Option<(u64, u64)>,
}

/// The event of `Program data:` bytes with its discriminator.
fn parse_swap_event(raw: &[u8], buy: bool) -> Result<PumpSwapEvent> {
    let what = if buy { "BuyEvent" } else { "SellEvent" };
    let r = R::event(raw, what, EVENT_HEAD, what)?;
    let amounts: [u64; 13] = r.array(16, 8, R::u64)?;
    // after the pool: user, its two token accounts, the fee recipient and its account,
    // then coin_creator and its fee bps and fee
    let creator_fee = if raw.len() >= EVENT_HEAD + 6 * 32 + 16 {
        Some((r.u64(EVENT_HEAD + 6 * 32)?, r.u64(EVENT_HEAD + 6 * 32 + 8)?))
    } else {
        None
    };
    Ok(PumpSwapEvent {
        buy,
        timestamp: i64::from_le_bytes(r.bytes(8)?),
        amounts,
        pool: r.key(120)?,
        creator_fee,
    })
}

/// A PumpSwap pool's quote state: its reserves, the fee rates a swap pays (the creator's
/// already 0 when the pool has no coin creator) and the GlobalConfig's disable flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PumpState {
    pub base_reserve: u64,
    /// The quote the curve prices with: the vault plus the pool's virtual quote reserves.
    pub quote_reserve: u64,
    /// The quote vault: what a sell may take out at most (gross output less the LP fee).
    pub real_quote: u64,
    pub lp_fee_bps: u64,
    pub protocol_fee_bps: u64,
    pub creator_fee_bps: u64,
    pub disable_flags: u8,
}

/// `⌈amount·bps / 10 000⌉`, the SDK's `fee` (amount < 2^64, bps ≤ 10 000: no overflow).
#[inline]
fn fee(amount: u128, bps: u64) -> u128 {
    (amount * u128::from(bps)).div_ceil(u128::from(BPS_DEN))
}

impl PumpState {
    /// The state of `pool_id`, checked: both reserves positive, every rate at most
    /// 10 000 bps and their sum below it (InvalidInput otherwise, naming the pool).
    pub fn checked(
        pool_id: &str,
        base_reserve: u64,
        quote_reserve: u64,
        bps: (u64, u64, u64),
        disable_flags: u8,
    ) -> Result<Self> {
        if base_reserve == 0 || quote_reserve == 0 {
            return Err(EngineError::InvalidInput(format!(
                "pool {pool_id}: zero reserve ({base_reserve}, {quote_reserve})"
            )));
        }
        let (lp, protocol, creator) = bps;
        let total = u128::from(lp) + u128::from(protocol) + u128::from(creator);
        if total >= u128::from(BPS_DEN) {
            return Err(EngineError::InvalidInput(format!(
                "pool {pool_id}: fees {lp} + {protocol} + {creator} bps must be below 10000"
            )));
        }
        Ok(Self {
            base_reserve,
            quote_reserve,
            real_quote: quote_reserve,
            lp_fee_bps: lp,
            protocol_fee_bps: protocol,
            creator_fee_bps: creator,
            disable_flags,
        })
    }

    fn total_bps(&self) -> u64 {
        self.lp_fee_bps + self.protocol_fee_bps + self.creator_fee_bps
    }

    fn fees(&self, amount: u128) -> u128 {
        fee(amount, self.lp_fee_bps)
            + fee(amount, self.protocol_fee_bps)
            + fee(amount, self.creator_fee_bps)
    }

    /// `sell`: quote out for `base_in`; `None` when the fees exceed the output or sells
    /// are disabled. 0 for 0.
    pub fn sell(&self, base_in: u64) -> Option<u64> {
        if base_in == 0 {
            return Some(0);
        }
        if self.disable_flags & DISABLE_SELL != 0 {
            return None;
        }
        let x = u128::from(base_in);
        let gross = u128::from(self.quote_reserve) * x / (u128::from(self.base_reserve) + x);
        if gross - fee(gross, self.lp_fee_bps) > u128::from(self.real_quote) {
            return None; // more than the vault holds
        }
        let out = gross.checked_sub(self.fees(gross))?;
        u64::try_from(out).ok()
    }

    /// `buy_exact_quote_in`: base out for `quote_in` spent, fees included; `None` when
    /// the budget does not cover the fees (BuyNotEnoughQuoteTokensToCoverFees) or buys
    /// are disabled. 0 for 0.
    pub fn buy(&self, quote_in: u64) -> Option<u64> {
        if quote_in == 0 {
            return Some(0);
        }
        if self.disable_flags & DISABLE_BUY != 0 {
            return None;
        }
        let s = u128::from(quote_in);
        let mut net = s * u128::from(BPS_DEN) / u128::from(BPS_DEN + self.total_bps());
        if net == 0 {
            return None;
        }
        let spent = net + self.fees(net);
        if spent > s {
            // the budget does not cover the fees once the excess is shaved off
            net = net.checked_sub(spent - s).filter(|&n| n > 0)?;
        }
        let x = net - 1;
        let out = u128::from(self.base_reserve) * x / (u128::from(self.quote_reserve) + x);
        u64::try_from(out).ok()
    }
}

/// The pool PDA: seeds `["pool", index u16 LE, creator, base_mint, quote_mint]`.
pub fn pool_address(index: u16, creator: &Key, base: &Key, quote: &Key) -> Result<(Key, u8)> {
    find_program_address(
        &[b"pool", &index.to_le_bytes(), creator, base, quote],
        &PROGRAM,
    )
}

/// The `GlobalConfig` PDA: seeds `["global_config"]`.
pub fn global_config_address() -> Result<(Key, u8)> {
    find_program_address(&[b"global_config"], &PROGRAM)
}

/// The Anchor event authority: seeds `["__event_authority"]`.
pub fn event_authority_address() -> Result<(Key, u8)> {
    find_program_address(&[b"__event_authority"], &PROGRAM)
}

/// The coin creator's vault authority: seeds `["creator_vault", coin_creator]`.
pub fn creator_vault_authority(coin_creator: &Key) -> Result<(Key, u8)> {
    find_program_address(&[b"creator_vault", coin_creator], &PROGRAM)
}

/// The Pump program's pool authority of a mint, the `creator` of canonical pools:
/// seeds `["pool-authority", base_mint]` under the Pump program.
pub fn pump_pool_authority(base_mint: &Key) -> Result<(Key, u8)> {
    find_program_address(&[b"pool-authority", base_mint], &b58::key(PUMP_PROGRAM_ID))
}

/// What the ingest keeps of a PumpSwap pool's own accounts: its `GlobalConfig`'s disable
/// flags, the `FeeConfig`, the base mint's supply, once seen; and whether the pool is a
/// canonical Pump pool (for its creator and base mint: a PDA, derived once).
#[derive(Debug, Default)]
pub struct Config {
    pub flags: Option<u8>,
    pub fee_config: Option<PumpFeeConfig>,
    pub supply: Option<u64>,
    pub canonical: Option<(Key, Key, bool)>,
}

impl Curve for PumpState {
    #[inline]
    fn quote_checked(&self, amount: u64, a_to_b: bool) -> std::result::Result<u64, NoQuote> {
        if a_to_b {
            self.sell(amount)
        } else {
            self.buy(amount)
        }
        .ok_or(NoQuote::Unfillable)
    }

    /// Output per input after the fees at zero size (f64, the twin's operations).
    fn spot_rate(&self, a_to_b: bool) -> f64 {
        let den = BPS_DEN as f64;
        let total = self.total_bps() as f64;
        if a_to_b {
            (self.quote_reserve as f64 / self.base_reserve as f64) * ((den - total) / den)
        } else {
            (self.base_reserve as f64 / self.quote_reserve as f64) * (den / (den + total))
        }
    }
}

/// The PumpSwap venue.
pub struct PumpAmm;

impl Venue for PumpAmm {
    venue_items! {
        // the size pools are written with today (the decoder takes from POOL_SIZE up)
        info "pump_amm", "pumpswap", "pump", "pump", [PROGRAM_ID], POOL_LEN;
        types PumpAmmPool, Config, PumpState, PumpSwapEvent;
        // bump, index, creator, mints, LP mint, vaults and the coin creator (which sets
        // whether the creator fee applies)
        identity pool_bump, index, keys, coin_creator;
        mints keys[1], keys[2];
        vaults keys[4], keys[5];
    }
    const OWN_ROLES: &'static [OwnRole] = &[
        OwnRole::named("global_config"),
        OwnRole::named("fee_config"),
        OwnRole::named("base_mint"),
    ];

    /// The `GlobalConfig` and the `FeeConfig` at their PDAs (the pool account does not
    /// name them), and its base mint.
    fn followed(r: &PumpAmmPool, out: &mut Vec<(u8, Key)>) {
        out.push((GLOBAL_CONFIG, GLOBAL_CONFIG_KEY));
        out.push((FEE_CONFIG, FEE_CONFIG_KEY));
        out.push((BASE_MINT, r.keys[1]));
    }

    fn own_account(own: &mut Config, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        match role {
            GLOBAL_CONFIG => {
                own.flags = Some(decode_pump_amm_global_config(cx.data, cx.owner)?.disable_flags);
            }
            FEE_CONFIG => own.fee_config = Some(decode_pump_fee_config(cx.data, cx.owner)?),
            BASE_MINT => own.supply = Some(decode::decode_mint(cx.data, cx.owner)?.supply),
            _ => return Err(super::no_role(Self::INFO, role)),
        }
        Ok(())
    }

    /// Reserves = the vaults (the quote's plus its virtual reserves); the fee rates of
    /// [`pool_fees`] (the market cap at these
    /// reserves picks the tier of a canonical pool).
    fn update(own: &mut Self::Own, r: &Self::Record, cx: &mut Assembly) -> Updated<Self::State> {
        let (Some(va), Some(vb)) = cx.vaults else {
            return Ok(None);
        };
        let (Some(flags), Some(cfg), Some(supply)) = (own.flags, &own.fee_config, own.supply)
        else {
            return Ok(None);
        };
        let (creator, base) = (r.keys[0], r.keys[1]);
        let canonical = match own.canonical {
            Some((c, b, yes)) if c == creator && b == base => yes,
            _ => {
                let yes = pump_pool_authority(&base)?.0 == creator;
                own.canonical = Some((creator, base, yes));
                yes
            }
        };
        let quote = i128::from(vb) + r.virtual_quote_reserves;
        let Ok(quote) = u64::try_from(quote.max(0)) else {
            return Err(EngineError::InvalidInput(format!(
                "pool {}: quote reserve {vb} + virtual {} is past u64",
                cx.pool_id, r.virtual_quote_reserves
            )));
        };
        let Some(fees) = pool_fees(cfg, canonical, r, (va, quote), supply) else {
            return Err(EngineError::InvalidInput(format!(
                "pool {}: the FeeConfig has no fee tiers",
                cx.pool_id
            )));
        };
        let slot = cx.slot()?;
        cx.check_ids()?;
        let mut state =
            PumpState::checked(cx.pool_id, va, quote, (fees[0], fees[1], fees[2]), flags)?;
        state.real_quote = vb;
        Ok(Some((state, slot)))
    }

    fn parse_event(raw: &[u8]) -> Option<Result<PumpSwapEvent>> {
        match raw.get(..8) {
            Some(d) if d == DISC_BUY_EVENT => Some(parse_swap_event(raw, true)),
            Some(d) if d == DISC_SELL_EVENT => Some(parse_swap_event(raw, false)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;

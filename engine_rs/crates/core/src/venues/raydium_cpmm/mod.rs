//! Raydium CP-Swap (twin: `engine_rs/python/venues/raydium_cpmm.py`): the `PoolState`
//! and `AmmConfig` accounts (spec §1.4), its constant-product quotes (spec §1.5) and its
//! Anchor `SwapEvent` (spec §6.2).
//!
//! The pool's reserves are its vault balances minus the protocol, fund and creator fees
//! they hold; swaps charge its `AmmConfig`'s `trade_fee_rate` per 1,000,000 on the input.
//! It follows one account of its own: the `AmmConfig` the pool account names.

use crate::amm::{reserves_from_vaults, ConstantProduct};
use crate::b58;
use crate::decode::{check, Key, R};
use crate::error::{EngineError, Result};

use super::{Assembly, NoQuote, OwnAccount, OwnRole, Venue, VenueInfo};

/// The CP-Swap program.
pub const PROGRAM_ID: &str = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C";
pub const PROGRAM: Key = b58::key(PROGRAM_ID);
pub const DISC_POOL: [u8; 8] = [0xf7, 0xed, 0xe3, 0xf5, 0xd7, 0xc3, 0xde, 0x46];
pub const DISC_CONFIG: [u8; 8] = [0xda, 0xf4, 0x21, 0x68, 0xcb, 0xcb, 0x2b, 0x6f];
pub const DISC_SWAP_EVENT: [u8; 8] = [64, 198, 205, 232, 38, 8, 113, 226];
/// `PoolState` with its discriminator.
pub const POOL_SIZE: usize = 637;
/// `AmmConfig` with its discriminator.
pub const CONFIG_SIZE: usize = 236;
/// Fee rates are per this.
pub const FEE_DEN: u64 = 1_000_000;
/// Role number of the pool's `AmmConfig` in [`Venue::OWN_ROLES`].
pub const CONFIG: u8 = 0;

/// The decoded `PoolState` (fields as `engine_rs.decoded.RaydiumCpmmPool`).
#[derive(Debug, Clone, PartialEq)]
pub struct RaydiumCpmmPool {
    /// amm_config, pool_creator, token_0_vault, token_1_vault, lp_mint, token_0_mint,
    /// token_1_mint, token_0_program, token_1_program, observation_key
    pub keys: [Key; 10],
    /// auth_bump, status, lp_mint_decimals, mint_0_decimals, mint_1_decimals
    pub u8s: [u8; 5],
    /// lp_supply, protocol fees 0/1, fund fees 0/1, open_time, recent_epoch
    pub u64s: [u64; 7],
    pub creator_fee_on: u8,
    pub enable_creator_fee: bool,
    pub creator_fees: [u64; 2],
}

/// Raydium CP-Swap `PoolState`.
pub fn decode_raydium_cpmm(data: &[u8], owner: Option<&Key>) -> Result<RaydiumCpmmPool> {
    let r = check(
        data,
        "PoolState",
        POOL_SIZE,
        &[DISC_POOL],
        owner,
        &[&PROGRAM],
    )?;
    let mut keys = [[0u8; 32]; 10];
    for (i, k) in keys.iter_mut().enumerate() {
        *k = r.key(8 + 32 * i)?;
    }
    let mut u8s = [0u8; 5];
    for (i, v) in u8s.iter_mut().enumerate() {
        *v = r.u8(328 + i)?;
    }
    let mut u64s = [0u64; 7];
    for (i, v) in u64s.iter_mut().enumerate() {
        *v = r.u64(333 + 8 * i)?;
    }
    Ok(RaydiumCpmmPool {
        keys,
        u8s,
        u64s,
        creator_fee_on: r.u8(389)?,
        enable_creator_fee: r.flag(390)?,
        creator_fees: [r.u64(397)?, r.u64(405)?],
    })
}

/// The decoded `AmmConfig` (fields as `engine_rs.decoded.RaydiumAmmConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct RaydiumAmmConfig {
    pub bump: u8,
    pub disable_create_pool: bool,
    pub index: u16,
    /// trade, protocol, fund fee rates (per 1,000,000); create_pool_fee
    pub rates: [u64; 4],
    pub protocol_owner: Key,
    pub fund_owner: Key,
    pub creator_fee_rate: u64,
}

/// Raydium CP-Swap `AmmConfig`.
pub fn decode_raydium_amm_config(data: &[u8], owner: Option<&Key>) -> Result<RaydiumAmmConfig> {
    let r = check(
        data,
        "AmmConfig",
        CONFIG_SIZE,
        &[DISC_CONFIG],
        owner,
        &[&PROGRAM],
    )?;
    Ok(RaydiumAmmConfig {
        bump: r.u8(8)?,
        disable_create_pool: r.flag(9)?,
        index: r.u16(10)?,
        rates: [r.u64(12)?, r.u64(20)?, r.u64(28)?, r.u64(36)?],
        protocol_owner: r.key(44)?,
        fund_owner: r.key(76)?,
        creator_fee_rate: r.u64(108)?,
    })
}

/// CP-Swap's `SwapEvent` (the old 81-byte body, or the 162-byte one since 2025-08).
#[derive(Debug, Clone, PartialEq)]
pub struct SwapEvent {
    pub pool_id: Key,
    /// input/output vault before, input/output amount, input/output transfer fee
    pub amounts: [u64; 6],
    pub base_input: bool,
    /// input_mint, output_mint, trade_fee, creator_fee, creator_fee_on_input
    pub newer: Option<(Key, Key, u64, u64, bool)>,
}

/// The `SwapEvent` of `Program data:` bytes with its discriminator.
fn parse_swap_event(raw: &[u8]) -> Result<SwapEvent> {
    if raw.len() < 8 + 81 {
        return Err(EngineError::AccountTooShort(format!(
            "SwapEvent: {} bytes, needs 89",
            raw.len()
        )));
    }
    let r = R {
        d: raw,
        what: "event",
    };
    let mut amounts = [0u64; 6];
    for (i, a) in amounts.iter_mut().enumerate() {
        *a = r.u64(40 + 8 * i)?;
    }
    let pool_id = r.key(8)?;
    let base_input = r.flag(88)?;
    let newer = if raw.len() >= 8 + 162 {
        Some((
            r.key(89)?,
            r.key(121)?,
            r.u64(153)?,
            r.u64(161)?,
            r.flag(169)?,
        ))
    } else {
        None
    };
    Ok(SwapEvent {
        pool_id,
        amounts,
        base_input,
        newer,
    })
}

/// What the ingest keeps of a CP-Swap pool's own accounts.
#[derive(Debug, Default)]
pub struct Config {
    /// Its `AmmConfig`'s trade fee rate (per 1,000,000), once seen.
    pub trade_fee_rate: Option<u64>,
}

/// The Raydium CP-Swap venue.
pub struct RaydiumCpmm;

impl Venue for RaydiumCpmm {
    const INFO: VenueInfo = VenueInfo {
        name: "raydium_cpmm",
        kind: "cpmm",
        label: "cp",
        graph_kind: "cpmm",
        program_ids: &[PROGRAM_ID],
        pool_account_size: POOL_SIZE,
    };
    const OWN_ROLES: &'static [OwnRole] = &[OwnRole {
        name: "config",
        from_pool: true,
    }];

    type Record = RaydiumCpmmPool;
    type Own = Config;
    type State = ConstantProduct;
    type Event = SwapEvent;

    fn decode(data: &[u8], owner: Option<&Key>) -> Result<RaydiumCpmmPool> {
        decode_raydium_cpmm(data, owner)
    }

    /// Every key (config, vaults, mints, programs...), the bump, status and decimals.
    fn same_identity(a: &RaydiumCpmmPool, b: &RaydiumCpmmPool) -> bool {
        a.keys == b.keys && a.u8s == b.u8s
    }

    /// (token 0, token 1).
    fn reserve_mints(r: &RaydiumCpmmPool) -> (Key, Key) {
        (r.keys[5], r.keys[6])
    }

    fn vaults(r: &RaydiumCpmmPool) -> (Key, Key) {
        (r.keys[2], r.keys[3])
    }

    /// Its `AmmConfig`.
    fn followed(r: &RaydiumCpmmPool, out: &mut Vec<(u8, Key)>) {
        out.push((CONFIG, r.keys[0]));
    }

    fn own_account(own: &mut Config, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        Self::check_role(role)?;
        let cfg = decode_raydium_amm_config(cx.data, cx.owner)?;
        own.trade_fee_rate = Some(cfg.rates[0]);
        Ok(())
    }

    fn check_own_account(role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        Self::check_role(role)?;
        decode_raydium_amm_config(cx.data, cx.owner).map(|_| ())
    }

    /// Reserves = vaults − (protocol + fund + creator fees); the config's trade fee.
    fn update(
        own: &mut Config,
        r: &RaydiumCpmmPool,
        cx: &mut Assembly<'_>,
    ) -> Result<Option<(ConstantProduct, u64)>> {
        let (Some(va), Some(vb)) = cx.vaults else {
            return Ok(None);
        };
        let Some(rate) = own.trade_fee_rate else {
            return Ok(None);
        };
        let held = |i: usize| {
            u128::from(r.u64s[1 + i]) + u128::from(r.u64s[3 + i]) + u128::from(r.creator_fees[i])
        };
        let (ra, rb) = reserves_from_vaults(cx.pool_id, (va, vb), (held(0), held(1)))?;
        let slot = cx.slot()?;
        cx.check_ids()?;
        let state = ConstantProduct::checked(cx.pool_id, ra, rb, rate, FEE_DEN)?;
        Ok(Some((state, slot)))
    }

    #[inline]
    fn quote_checked(
        s: &ConstantProduct,
        amount: u64,
        a_to_b: bool,
    ) -> std::result::Result<u64, NoQuote> {
        Ok(s.amount_out(amount, a_to_b))
    }

    #[inline]
    fn spot_rate(s: &ConstantProduct, a_to_b: bool) -> f64 {
        s.spot_rate(a_to_b)
    }

    fn constant_product(s: &ConstantProduct) -> Option<&ConstantProduct> {
        Some(s)
    }

    /// Its `SwapEvent` (89 or 170 bytes); a longer line is not one (Raydium CLMM's
    /// `SwapEvent`, 205 or 221 bytes, has the same discriminator).
    fn parse_event(raw: &[u8]) -> Option<Result<SwapEvent>> {
        (raw.get(..8) == Some(&DISC_SWAP_EVENT[..]) && raw.len() <= 8 + 162)
            .then(|| parse_swap_event(raw))
    }
}

impl RaydiumCpmm {
    fn check_role(role: u8) -> Result<()> {
        if role == CONFIG {
            Ok(())
        } else {
            Err(super::no_role(Self::INFO, role))
        }
    }
}

#[cfg(test)]
mod tests;

//! Raydium AMM v4 (twin: `engine_rs/python/venues/raydium_amm_v4.py`): the `AmmInfo`
//! pool account (spec §1.2), its constant-product quotes (spec §1.3) and its `ray_log`
//! swap logs (spec §6.1).
//!
//! The pool's reserves are its vault balances minus `need_take_pnl_*`; swaps charge
//! `swap_fee_numerator / swap_fee_denominator` on the input. It follows no account of its
//! own besides its two vaults.

use crate::amm::{reserves_from_vaults, ConstantProduct};
use crate::b58;
use crate::decode::{check, err, Key, R};
use crate::error::{EngineError, Result};

use super::{Assembly, Curve, NoQuote, Updated, Venue};

/// The AMM v4 program.
pub const PROGRAM_ID: &str = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8";
pub const PROGRAM: Key = b58::key(PROGRAM_ID);
/// `AmmInfo` has no discriminator; it is this long.
pub const POOL_SIZE: usize = 752;
/// The `Program log: ` prefix of its swap logs.
pub const RAY_LOG: &[u8] = b"Program log: ray_log: ";

/// Offsets of the `u64` fields of [`AmmInfo::u64s`]: status, nonce, coin_decimals,
/// pc_decimals, state, trade_fee n/d, swap_fee n/d, need_take_pnl coin/pc, pool_open_time.
const U64_AT: [usize; 12] = [0, 8, 32, 40, 48, 144, 152, 176, 184, 192, 200, 224];
/// Offsets of the keys of [`AmmInfo::keys`]: coin_vault, pc_vault, coin_vault_mint,
/// pc_vault_mint, lp_mint, open_orders, market, market_program, target_orders, amm_owner.
const KEY_AT: [usize; 10] = [336, 368, 400, 432, 464, 496, 528, 560, 592, 688];

/// The decoded `AmmInfo` (fields as `engine_rs.decoded.RaydiumAmmV4`, in that order).
#[derive(Debug, Clone, PartialEq)]
pub struct AmmInfo {
    /// status, nonce, coin_decimals, pc_decimals, state, trade fee n/d, swap fee n/d,
    /// need_take_pnl coin/pc, pool_open_time
    pub u64s: [u64; 12],
    /// coin_vault .. amm_owner
    pub keys: [Key; 10],
    pub lp_amount: u64,
}

/// Raydium AMM v4 `AmmInfo` (752 bytes, no discriminator).
pub fn decode_raydium_amm_v4(data: &[u8], owner: Option<&Key>) -> Result<AmmInfo> {
    let r = check(data, "AmmInfo", POOL_SIZE, &[], owner, &[&PROGRAM])?;
    let mut u64s = [0u64; 12];
    for (v, &o) in u64s.iter_mut().zip(&U64_AT) {
        *v = r.u64(o)?;
    }
    let mut keys = [[0u8; 32]; 10];
    for (k, &o) in keys.iter_mut().zip(&KEY_AT) {
        *k = r.key(o)?;
    }
    Ok(AmmInfo {
        u64s,
        keys,
        lp_amount: r.u64(720)?,
    })
}

decoded_by!(AmmInfo, decode_raydium_amm_v4);

/// A swap's `ray_log`: 0 = swap_base_in, 1 = swap_base_out; then the seven u64 fields.
pub type RayLog = (u8, [u64; 7]);

/// The swap of a `ray_log: <b64>` line; `None` for the other log types (init, deposit,
/// withdraw). Text that is not base64 (the program's plain-text diagnostics share the
/// prefix) is a decode error.
pub fn parse_ray_log(b64: &str) -> Result<Option<RayLog>> {
    let raw = crate::decode::b64decode(b64).map_err(|e| err(format!("ray_log: {e}")))?;
    parse_ray_log_bytes(&raw)
}

/// [`parse_ray_log`] of the bytes the base64 text decoded to.
pub fn parse_ray_log_bytes(raw: &[u8]) -> Result<Option<RayLog>> {
    let Some(&kind) = raw.first() else {
        return Err(err("ray_log: empty".into()));
    };
    if kind != 3 && kind != 4 {
        if kind > 4 {
            return Err(err(format!("ray_log: log type {kind} is unknown")));
        }
        return Ok(None);
    }
    if raw.len() < 57 {
        return Err(EngineError::AccountTooShort(format!(
            "ray_log: {} bytes, a swap log has 57",
            raw.len()
        )));
    }
    let r = R {
        d: raw,
        what: "ray_log",
    };
    let v: [u64; 7] = r.array(1, 8, R::u64)?;
    Ok(Some((kind - 3, v)))
}

/// Its curve is the constant product (sizing's closed form).
impl Curve for ConstantProduct {
    #[inline]
    fn quote_checked(&self, amount: u64, a_to_b: bool) -> std::result::Result<u64, NoQuote> {
        Ok(self.amount_out(amount, a_to_b))
    }

    #[inline]
    fn spot_rate(&self, a_to_b: bool) -> f64 {
        ConstantProduct::spot_rate(self, a_to_b)
    }

    fn constant_product(&self) -> Option<&ConstantProduct> {
        Some(self)
    }
}

/// The Raydium AMM v4 venue.
pub struct RaydiumAmmV4;

impl Venue for RaydiumAmmV4 {
    venue_items! {
        info "raydium_amm_v4", "amm_v4", "v4", "cpmm", [PROGRAM_ID], POOL_SIZE;
        types AmmInfo, (), ConstantProduct, RayLog;
        // status, nonce, both decimals and every key (vaults, mints, market, programs...)
        identity u64s[..4], keys;
        mints keys[2], keys[3];
        vaults keys[0], keys[1];
    }
    const LOG_PREFIX: Option<&'static [u8]> = Some(RAY_LOG);

    /// Reserves = vaults − need_take_pnl; the swap fee from the pool account.
    fn update(_own: &mut Self::Own, r: &Self::Record, cx: &mut Assembly) -> Updated<Self::State> {
        let (Some(va), Some(vb)) = cx.vaults else {
            return Ok(None);
        };
        let held = (u128::from(r.u64s[9]), u128::from(r.u64s[10]));
        let (ra, rb) = reserves_from_vaults(cx.pool_id, (va, vb), held)?;
        let slot = cx.slot()?;
        cx.check_ids()?;
        let state = ConstantProduct::checked(cx.pool_id, ra, rb, r.u64s[7], r.u64s[8])?;
        Ok(Some((state, slot)))
    }

    fn parse_log(raw: &[u8]) -> Result<Option<RayLog>> {
        parse_ray_log_bytes(raw)
    }
}

#[cfg(test)]
mod tests;

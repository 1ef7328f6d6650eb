//! Token-2022 mints in a swap: the `TransferFeeConfig` extension's fee as the program
//! computes it (spl-token-2022 `interface/src/extension/transfer_fee/mod.rs`:
//! `TransferFee::calculate_fee`, `calculate_pre_fee_amount`, `calculate_inverse_fee`,
//! `TransferFeeConfig::get_epoch_fee`), and the mint extensions arbscope refuses to
//! route through because they change or stop a transfer (`refused_extensions`).
//!
//! A transfer fee is `(epoch, maximum_fee, transfer_fee_basis_points)` (the decoder's
//! [`crate::decode::TransferFee`]); a config is `(older, newer)`: the newer fee applies
//! from its epoch on, the older one before.

use crate::decode::{decode_mint, Key, TransferFee};
use crate::{EngineError, Result};

/// 100 % in basis points: the program's `MAX_FEE_BASIS_POINTS`.
pub const MAX_FEE_BASIS_POINTS: u16 = 10_000;
const ONE: u128 = MAX_FEE_BASIS_POINTS as u128;

fn bps(fee: &TransferFee) -> Result<u128> {
    if fee.2 > MAX_FEE_BASIS_POINTS {
        return Err(EngineError::InvalidInput(format!(
            "transfer_fee_basis_points {} is above {MAX_FEE_BASIS_POINTS}",
            fee.2
        )));
    }
    Ok(u128::from(fee.2))
}

/// The fee in force at `epoch`: newer if `epoch >= newer.epoch`, else older. Both fees
/// are checked (basis points above 10,000 are `InvalidInput` in either).
pub fn epoch_fee(config: &(TransferFee, TransferFee), epoch: u64) -> Result<TransferFee> {
    bps(&config.0)?;
    bps(&config.1)?;
    Ok(if epoch >= config.1 .0 {
        config.1
    } else {
        config.0
    })
}

fn ceil_div(numerator: u128, denominator: u128) -> u128 {
    // numerator <= u64::MAX * 10_000 and denominator <= 10_000: no overflow
    numerator.div_ceil(denominator)
}

fn fee_of(fee: &TransferFee, amount: u64) -> Result<u64> {
    let b = bps(fee)?;
    if b == 0 || amount == 0 {
        return Ok(0);
    }
    let raw = ceil_div(u128::from(amount) * b, ONE);
    // raw <= amount because b <= 10_000
    let raw = u64::try_from(raw)
        .map_err(|_| EngineError::Overflow(format!("transfer fee {raw} does not fit in u64")))?;
    Ok(raw.min(fee.1))
}

fn pre_fee_of(fee: &TransferFee, post: u64) -> Result<u64> {
    let b = bps(fee)?;
    let maximum_fee = fee.1;
    let overflow = || {
        EngineError::Overflow(format!(
            "no u64 amount arrives as {post} after the fee (maximum {maximum_fee}, {b} bps)"
        ))
    };
    if b == 0 {
        return Ok(post);
    }
    if post == 0 {
        return Ok(0);
    }
    if b == ONE {
        return maximum_fee.checked_add(post).ok_or_else(overflow);
    }
    let raw = ceil_div(u128::from(post) * ONE, ONE - b);
    if raw - u128::from(post) >= u128::from(maximum_fee) {
        post.checked_add(maximum_fee).ok_or_else(overflow)
    } else {
        u64::try_from(raw).map_err(|_| overflow())
    }
}

/// The fee withheld when `amount` is sent at `epoch` (the program's
/// `calculate_epoch_fee`): ceil(amount × bps / 10,000), at most `maximum_fee`; 0 for
/// 0 bps or a zero amount. Basis points above 10,000 are `InvalidInput`.
pub fn transfer_fee(config: &(TransferFee, TransferFee), epoch: u64, amount: u64) -> Result<u64> {
    fee_of(&epoch_fee(config, epoch)?, amount)
}

/// What arrives when `amount` is sent at `epoch` (`calculate_post_fee_amount`).
pub fn post_fee_amount(
    config: &(TransferFee, TransferFee),
    epoch: u64,
    amount: u64,
) -> Result<u64> {
    let fee = transfer_fee(config, epoch, amount)?;
    // fee <= amount (see fee_of)
    amount
        .checked_sub(fee)
        .ok_or_else(|| EngineError::Overflow(format!("fee {fee} is above amount {amount}")))
}

/// The amount to send at `epoch` so that `post_amount` arrives, as the program
/// computes it (`calculate_pre_fee_amount`: the smaller amount where two round to the
/// same; `maximum_fee + post` at 10,000 bps). `Overflow` where no u64 amount does it.
pub fn pre_fee_amount(
    config: &(TransferFee, TransferFee),
    epoch: u64,
    post_amount: u64,
) -> Result<u64> {
    pre_fee_of(&epoch_fee(config, epoch)?, post_amount)
}

/// The fee on the amount [`pre_fee_amount`] sends (`calculate_inverse_epoch_fee`).
pub fn inverse_transfer_fee(
    config: &(TransferFee, TransferFee),
    epoch: u64,
    post_amount: u64,
) -> Result<u64> {
    let fee = epoch_fee(config, epoch)?;
    fee_of(&fee, pre_fee_of(&fee, post_amount)?)
}

/// Names of the Token-2022 extension types by their `u16` (the program's
/// `ExtensionType`, `#[repr(u16)]` in declaration order).
pub const EXTENSION_NAMES: [&str; 29] = [
    "Uninitialized",
    "TransferFeeConfig",
    "TransferFeeAmount",
    "MintCloseAuthority",
    "ConfidentialTransferMint",
    "ConfidentialTransferAccount",
    "DefaultAccountState",
    "ImmutableOwner",
    "MemoTransfer",
    "NonTransferable",
    "InterestBearingConfig",
    "CpiGuard",
    "PermanentDelegate",
    "NonTransferableAccount",
    "TransferHook",
    "TransferHookAccount",
    "ConfidentialTransferFeeConfig",
    "ConfidentialTransferFeeAmount",
    "MetadataPointer",
    "TokenMetadata",
    "GroupPointer",
    "TokenGroup",
    "GroupMemberPointer",
    "TokenGroupMember",
    "ConfidentialMintBurn",
    "ScaledUiAmount",
    "Pausable",
    "PausableAccount",
    "PermissionedBurn",
];

const NON_TRANSFERABLE: u16 = 9;
const TRANSFER_HOOK: u16 = 14;
const DEFAULT_ACCOUNT_STATE: u16 = 6;
const PAUSABLE: u16 = 26;
/// `AccountState::Frozen`
const FROZEN: u8 = 2;

/// What the pool graph keeps of a mint (`PoolGraph::set_mint`): its transfer-fee config
/// `(older, newer)` (None without the extension) and its refused extensions' names, with
/// every check `set_mint` makes: `decode_mint`'s, then the fees' basis points (above
/// 10,000 is `InvalidInput`: a mint the program never writes).
pub type MintRules = (Option<(TransferFee, TransferFee)>, Vec<String>);

/// The [`MintRules`] of a mint account's bytes (`owner`: SPL Token or Token-2022).
pub fn mint_rules(data: &[u8], owner: Option<&Key>) -> Result<MintRules> {
    let m = decode_mint(data, owner)?;
    let refused = refused_extensions(data, owner)?;
    let fee = match (m.older_transfer_fee, m.newer_transfer_fee) {
        (Some(o), Some(n)) => Some((o, n)),
        _ => None,
    };
    if let Some(f) = &fee {
        epoch_fee(f, 0)?; // basis points a mint cannot hold
    }
    Ok((fee, refused))
}

/// The extensions of a mint that arbscope refuses to swap through, by name, in the
/// order the account holds them: `TransferHook` with a program set (the transfer invokes
/// it, with accounts our swaps do not pass), `NonTransferable` (every transfer fails),
/// `Pausable` while paused (every transfer fails: `MintPaused`), `DefaultAccountState`
/// when the default is frozen (a new token account cannot send or receive), and any
/// type this engine does not know (`Unknown(n)`). A value too short to read is refused.
/// An SPL Token mint, or a Token-2022 mint without these, gives an empty list. The
/// bytes are checked as `decode_mint` checks them.
pub fn refused_extensions(data: &[u8], owner: Option<&Key>) -> Result<Vec<String>> {
    decode_mint(data, owner)?;
    let mut out = Vec::new();
    if data.len() <= 165 || data.len() == 355 {
        return Ok(out);
    }
    let mut off = 166usize;
    while off + 4 <= data.len() {
        let ext = u16::from_le_bytes([data[off], data[off + 1]]);
        let len = usize::from(u16::from_le_bytes([data[off + 2], data[off + 3]]));
        if ext == 0 && len == 0 {
            break;
        }
        // decode_mint checked that every value lies inside the account
        let value = data.get(off + 4..off + 4 + len).unwrap_or(&[]);
        let refused = match ext {
            NON_TRANSFERABLE => true,
            // authority, then program_id: all zeros is None (no hook runs)
            TRANSFER_HOOK => value
                .get(32..64)
                .is_none_or(|id| id.iter().any(|&b| b != 0)),
            // authority, then paused
            PAUSABLE => value.get(32).is_none_or(|&b| b != 0),
            DEFAULT_ACCOUNT_STATE => value.first().is_none_or(|&b| b == FROZEN),
            _ => usize::from(ext) >= EXTENSION_NAMES.len(),
        };
        if refused {
            out.push(match EXTENSION_NAMES.get(usize::from(ext)) {
                Some(name) => (*name).to_string(),
                None => format!("Unknown({ext})"),
            });
        }
        off += 4 + len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(fee: TransferFee) -> (TransferFee, TransferFee) {
        (fee, fee)
    }

    /// spl-token-2022 `interface/src/extension/transfer_fee/mod.rs` (commit 426400f2)
    /// tests: calculate_fee_max (257-282), calculate_fee_min (285-306),
    /// calculate_fee_exact_out_min (401-425), calculate_pre_fee_amount_edge_cases
    /// (374-398); the whole set is tests/engine/data/spl_token_2022_transfer_fee.json.
    #[test]
    fn program_vectors() -> Result<()> {
        let c = one((0, 5_000, 1));
        assert_eq!(transfer_fee(&c, 0, u64::MAX)?, 5_000);
        assert_eq!(transfer_fee(&c, 0, 5_000 * 10_000 - 1)?, 5_000);
        assert_eq!(transfer_fee(&c, 0, 1)?, 1);
        assert_eq!(transfer_fee(&c, 0, 10_001)?, 2);
        assert_eq!(inverse_transfer_fee(&c, 0, 9_999)?, 1);
        assert_eq!(inverse_transfer_fee(&c, 0, 10_000)?, 2);
        assert_eq!(pre_fee_amount(&one((0, 5_000, 10_000)), 0, 1)?, 5_001);
        assert_eq!(pre_fee_amount(&one((0, 5_000, 0)), 0, 1)?, 1);
        // test_transfer_fee_config / epoch_fee (200-254): newer from epoch 100 on
        let c = ((1, 10, 100), (100, 5_000, 1));
        assert_eq!(epoch_fee(&c, 100)?.0, 100);
        assert_eq!(epoch_fee(&c, u64::MAX)?.0, 100);
        assert_eq!(epoch_fee(&c, 99)?.0, 1);
        Ok(())
    }

    #[test]
    fn bps_above_one_is_refused() {
        let c = one((0, 5, 10_001));
        assert!(matches!(
            transfer_fee(&c, 0, 1),
            Err(EngineError::InvalidInput(_))
        ));
        assert!(matches!(
            pre_fee_amount(&c, 0, 1),
            Err(EngineError::InvalidInput(_))
        ));
    }

    #[test]
    fn no_amount_arrives_above_u64() {
        // the program's doc: net u64::MAX with a positive fee rate has no pre-fee amount
        let c = one((0, u64::MAX, 1));
        assert!(matches!(
            pre_fee_amount(&c, 0, u64::MAX),
            Err(EngineError::Overflow(_))
        ));
    }
}

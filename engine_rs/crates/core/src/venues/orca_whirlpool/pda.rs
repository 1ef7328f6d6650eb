//! Orca Whirlpool's program-derived addresses (spec §2.4): a pool, its tick arrays and
//! its oracle (twin: `engine_rs/python/venues/orca_whirlpool/pda.py`). The derivation
//! and the derive-once cache are the shared machinery of [`crate::pda`].

use super::{PROGRAM, TICK_ARRAY_SIZE};
use crate::derive::find_program_address;
use crate::error::Result;
use crate::pda::Derived;
use crate::venues::ticks::array_starts;

/// The Whirlpool of a config and mint pair (spec §2.4): seeds `["whirlpool", config,
/// mint_a, mint_b, fee_tier_index u16 LE]`.
pub fn whirlpool_address(
    config: &[u8; 32],
    mint_a: &[u8; 32],
    mint_b: &[u8; 32],
    fee_tier_index: u16,
) -> Result<([u8; 32], u8)> {
    let fee = fee_tier_index.to_le_bytes();
    find_program_address(&[b"whirlpool", config, mint_a, mint_b, &fee], &PROGRAM)
}

/// A Whirlpool tick array (spec §2.4): seeds `["tick_array", whirlpool, decimal ASCII of
/// the start tick index]`.
pub fn tick_array_address(whirlpool: &[u8; 32], start_tick_index: i32) -> Result<([u8; 32], u8)> {
    let start = start_tick_index.to_string();
    find_program_address(&[b"tick_array", whirlpool, start.as_bytes()], &PROGRAM)
}

/// A Whirlpool's oracle: seeds `["oracle", whirlpool]`.
pub fn oracle_address(whirlpool: &[u8; 32]) -> Result<([u8; 32], u8)> {
    find_program_address(&[b"oracle", whirlpool], &PROGRAM)
}

/// Tick-array start indices around `center_tick`: the array holding it and
/// `arrays_each_side` arrays on each side (88 ticks of `tick_spacing` per array).
/// `InvalidInput` for a spacing outside 1..=65535, more than 64 arrays a side, or a
/// start outside i32.
pub fn tick_array_starts(
    tick_spacing: i64,
    center_tick: i64,
    arrays_each_side: i64,
) -> Result<Vec<i32>> {
    array_starts(TICK_ARRAY_SIZE, tick_spacing, center_tick, arrays_each_side)
}

/// The tick arrays of `whirlpool` at `starts`, derived (pure: callers may run it without
/// any lock), in order.
pub fn derive_tick_arrays(whirlpool: &[u8; 32], starts: &[i32]) -> Result<Vec<Derived>> {
    starts
        .iter()
        .map(|&s| tick_array_address(whirlpool, s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b58;
    use crate::error::EngineError;

    fn id(s: &str) -> [u8; 32] {
        b58::decode_32(s).expect("valid address")
    }

    #[test]
    fn whirlpool_program_id_constant() {
        assert_eq!(
            b58::encode(&PROGRAM),
            "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"
        );
    }

    #[test]
    fn spec_2_4_orca_vectors() {
        let (wp, bump) = whirlpool_address(
            &id("2LecshUwdy9xi7meFgHtFJQNSKk4KdTrcpvaB56dP2NQ"),
            &id("So11111111111111111111111111111111111111112"),
            &id("2b1kV6DkPAnxd5ixfnxCpjxmKwqjjaYmCZfHsFu24GXo"),
            2,
        )
        .expect("found");
        assert_eq!(
            b58::encode(&wp),
            "JDQ9GDphXV5ENDrAQtRFvT98m3JwsVJJk8BYHoX8uTAg"
        );
        assert_eq!(bump, 254);
        let (ta, _) = tick_array_address(&id("2kJmUjxWBwL2NGPBV2PiA5hWtmLCqcKY6reQgkrPtaeS"), 0)
            .expect("found");
        assert_eq!(
            b58::encode(&ta),
            "8PhPzk7n4wU98Z6XCbVtPai2LtXSxYnfjkmgWuoAU8Zy"
        );
    }

    #[test]
    fn tick_array_starts_surround_the_center() {
        assert_eq!(tick_array_starts(64, 0, 1), Ok(vec![-5632, 0, 5632]));
        assert_eq!(tick_array_starts(64, -1, 0), Ok(vec![-5632]));
        assert_eq!(tick_array_starts(1, 87, 0), Ok(vec![0]));
        assert_eq!(tick_array_starts(1, 88, 0), Ok(vec![88]));
        for bad in [
            tick_array_starts(0, 0, 1),
            tick_array_starts(65_536, 0, 1),
            tick_array_starts(64, 0, 65),
            tick_array_starts(64, 0, -1),
            tick_array_starts(65_535, i64::from(i32::MAX), 1),
        ] {
            assert!(matches!(bad, Err(EngineError::InvalidInput(_))), "{bad:?}");
        }
    }
}

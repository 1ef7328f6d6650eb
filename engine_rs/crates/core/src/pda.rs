//! Program-derived addresses (spec §4.1) and the Orca Whirlpool PDAs (spec §2.4).
//!
//! `create_program_address`: `h = sha256(seed_0 ‖ … ‖ seed_n ‖ program_id ‖
//! "ProgramDerivedAddress")`; an error if `h` decompresses as an ed25519 point (the test
//! is curve25519-dalek's `CompressedEdwardsY::decompress().is_some()`, as the validator's
//! — a non-canonical y is reduced, and x = 0 with the sign bit set still decompresses).
//! `find_program_address` appends one bump byte, tries 255 down to 1 (the runtime's
//! `for _ in 0..u8::MAX` loop never tries 0) and returns the first off-curve hash.
//! Limits: at most 16 seeds including the bump, each at most 32 bytes.

use curve25519_dalek::edwards::CompressedEdwardsY;
use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};

pub const MAX_SEEDS: usize = 16;
pub const MAX_SEED_LEN: usize = 32;
pub const PDA_MARKER: &[u8; 21] = b"ProgramDerivedAddress";

/// The Orca Whirlpool program (`whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc`).
pub const WHIRLPOOL_PROGRAM_ID: [u8; 32] = [
    14, 3, 104, 95, 142, 144, 144, 83, 228, 88, 18, 28, 102, 245, 167, 106, 237, 199, 112, 106,
    161, 28, 130, 248, 170, 149, 42, 143, 43, 120, 121, 169,
];

/// Whether 32 bytes decompress to a point of ed25519 (then they cannot be a PDA).
pub fn is_on_curve(bytes: &[u8; 32]) -> bool {
    CompressedEdwardsY(*bytes).decompress().is_some()
}

fn check_seeds(seeds: &[&[u8]], max: usize) -> Result<()> {
    if seeds.len() > max {
        return Err(EngineError::Seed(format!(
            "{} seeds: at most {max} (16 including the bump)",
            seeds.len()
        )));
    }
    if let Some((i, s)) = seeds
        .iter()
        .enumerate()
        .find(|(_, s)| s.len() > MAX_SEED_LEN)
    {
        return Err(EngineError::Seed(format!(
            "seed {i} is {} bytes: at most {MAX_SEED_LEN}",
            s.len()
        )));
    }
    Ok(())
}

fn finish(hasher: Sha256, program_id: &[u8; 32]) -> [u8; 32] {
    let mut h = hasher;
    h.update(program_id);
    h.update(PDA_MARKER);
    h.finalize().into()
}

/// The address of `seeds` under `program_id`; `InvalidSeeds` when it is on the curve.
pub fn create_program_address(seeds: &[&[u8]], program_id: &[u8; 32]) -> Result<[u8; 32]> {
    check_seeds(seeds, MAX_SEEDS)?;
    let mut hasher = Sha256::new();
    for s in seeds {
        hasher.update(s);
    }
    let h = finish(hasher, program_id);
    if is_on_curve(&h) {
        return Err(EngineError::InvalidSeeds(
            "the derived address is on the ed25519 curve: not a valid program address".into(),
        ));
    }
    Ok(h)
}

/// The first off-curve address of `seeds ‖ [bump]` for bump = 255 down to 1, and the bump.
pub fn find_program_address(seeds: &[&[u8]], program_id: &[u8; 32]) -> Result<([u8; 32], u8)> {
    check_seeds(seeds, MAX_SEEDS - 1)?;
    let mut prefix = Sha256::new();
    for s in seeds {
        prefix.update(s);
    }
    for bump in (1..=u8::MAX).rev() {
        let mut hasher = prefix.clone();
        hasher.update([bump]);
        let h = finish(hasher, program_id);
        if !is_on_curve(&h) {
            return Ok((h, bump));
        }
    }
    Err(EngineError::NoViableBump(
        "no bump from 255 down to 1 gives an off-curve address".into(),
    ))
}

/// The Whirlpool of a config and mint pair (spec §2.4): seeds `["whirlpool", config,
/// mint_a, mint_b, fee_tier_index u16 LE]`.
pub fn whirlpool_address(
    config: &[u8; 32],
    mint_a: &[u8; 32],
    mint_b: &[u8; 32],
    fee_tier_index: u16,
) -> Result<([u8; 32], u8)> {
    let fee = fee_tier_index.to_le_bytes();
    find_program_address(
        &[b"whirlpool", config, mint_a, mint_b, &fee],
        &WHIRLPOOL_PROGRAM_ID,
    )
}

/// A Whirlpool tick array (spec §2.4): seeds `["tick_array", whirlpool, decimal ASCII of
/// the start tick index]`.
pub fn tick_array_address(whirlpool: &[u8; 32], start_tick_index: i32) -> Result<([u8; 32], u8)> {
    let start = start_tick_index.to_string();
    find_program_address(
        &[b"tick_array", whirlpool, start.as_bytes()],
        &WHIRLPOOL_PROGRAM_ID,
    )
}

/// A Whirlpool's oracle: seeds `["oracle", whirlpool]`.
pub fn oracle_address(whirlpool: &[u8; 32]) -> Result<([u8; 32], u8)> {
    find_program_address(&[b"oracle", whirlpool], &WHIRLPOOL_PROGRAM_ID)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b58;

    fn id(s: &str) -> [u8; 32] {
        b58::decode_32(s).expect("valid address")
    }

    #[test]
    fn whirlpool_program_id_constant() {
        assert_eq!(
            b58::encode(&WHIRLPOOL_PROGRAM_ID),
            "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"
        );
    }

    #[test]
    fn spec_4_2_vectors() {
        let loader = id("BPFLoaderUpgradeab1e11111111111111111111111");
        let cases: [(&[&[u8]], &str); 4] = [
            (&[b"", &[1]], "BwqrghZA2htAcqq8dzP1WDAhTXYTYWj7CHxF5j7TDBAe"),
            (
                &["☉".as_bytes(), &[0]],
                "13yWmRpaTR4r5nAktwLqMpRNr28tnVUZw26rTvPSSB19",
            ),
            (
                &[b"Talking", b"Squirrels"],
                "2fnQrngrQT4SeLcdToJAD96phoEjNL2man2kfRLCASVk",
            ),
            (
                &[&id("SeedPubey1111111111111111111111111111111111"), &[1]],
                "976ymqVnfE32QFe6NfGDctSvVa36LWnvYxhU6G2232YL",
            ),
        ];
        for (seeds, want) in cases {
            let got = create_program_address(seeds, &loader).expect("off curve");
            assert_eq!(b58::encode(&got), want);
        }
        let seventeen: Vec<&[u8]> = (0..17).map(|_| &b"x"[..]).collect();
        assert!(matches!(
            create_program_address(&seventeen, &loader),
            Err(EngineError::Seed(_))
        ));
        assert!(create_program_address(&seventeen[..16], &loader).is_ok());
        assert!(matches!(
            create_program_address(&[&[0u8; 33]], &loader),
            Err(EngineError::Seed(_))
        ));
        assert!(matches!(
            find_program_address(&seventeen[..16], &loader),
            Err(EngineError::Seed(_))
        ));
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
    fn jito_tip_accounts() {
        let program = id("T1pyyaTNZsKv2WcRAB8oVnk93mLJw2XzjtVYqCsaHqt");
        let want = [
            ("96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5", 255),
            ("HFqU5x63VTqvQss8hp11i4wVV8bD44PvwucfZ2bU7gRe", 254),
            ("Cw8CFyM9FkoMi7K7Crf6HNQqf4uEMzpKw6QNghXLvLkY", 255),
            ("ADaUMid9yfUytqMBgopwjb2DTLSokTSzL1zt6iGPaS49", 255),
            ("DfXygSm4jCyNCybVYYK6DwvWqjKee8pbDmJGcLWNDXjh", 252),
            ("ADuUkR4vqLUMWXxW9gh6D6L8pMSawimctcNZ5pGwDcEt", 255),
            ("DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL", 252),
            ("3AVi9Tg9Uo68tJfuvoKvqKNWKkC5wPdSSdeBnizKZ6jT", 255),
        ];
        for (i, (addr, bump)) in want.iter().enumerate() {
            let seed = format!("TIP_ACCOUNT_{i}");
            let (got, b) = find_program_address(&[seed.as_bytes()], &program).expect("found");
            assert_eq!((b58::encode(&got).as_str(), b), (*addr, *bump));
        }
    }

    #[test]
    fn on_curve_edge_encodings_follow_dalek() {
        // y = 1 (x = 0) decompresses with either sign bit; dalek does not reject "-0"
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(is_on_curve(&one));
        one[31] |= 0x80;
        assert!(is_on_curve(&one));
        // the base point is on the curve; flipping a low bit of y usually is not
        let base = curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.to_bytes();
        assert!(is_on_curve(&base));
    }
}

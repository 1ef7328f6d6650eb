//! The program-derived address (spec §4.1), as the runtime derives it: every venue's
//! PDAs use it; `pda.rs` caches what it derives.
//!
//! `create_program_address`: `h = sha256(seed_0 ‖ … ‖ seed_n ‖ program_id ‖
//! "ProgramDerivedAddress")`; an error if `h` decompresses as an ed25519 point: the rule
//! of curve25519-dalek's `CompressedEdwardsY::decompress().is_some()`, the validator's
//! test — a non-canonical y is reduced, and x = 0 with the sign bit set still
//! decompresses. [`is_on_curve`] decides it with a Jacobi symbol instead of dalek's
//! square root (the same answer, checked against dalek in the tests, in a third of the
//! time: the square root was most of a derivation).
//! `find_program_address` appends one bump byte, tries 255 down to 1 (the runtime's
//! `for _ in 0..u8::MAX` loop never tries 0) and returns the first off-curve hash.
//! Limits: at most 16 seeds including the bump, each at most 32 bytes.

use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};

pub const MAX_SEEDS: usize = 16;
pub const MAX_SEED_LEN: usize = 32;
pub const PDA_MARKER: &[u8; 21] = b"ProgramDerivedAddress";

/// Whether 32 bytes decompress to a point of ed25519 (then they cannot be a PDA), as
/// curve25519-dalek decides it: y is the bytes read little-endian with bit 255 cleared,
/// reduced mod p = 2²⁵⁵ − 19, and the point exists iff `x² = u / v` has a root, with
/// `u = y² − 1` and `v = d·y² + 1`, whatever the sign bit. `v` is never 0 (`−1/d` is not
/// a square), so that is: `u = 0`, or `u·v` a square mod p, which its Jacobi symbol
/// tells without dalek's exponentiation.
pub fn is_on_curve(bytes: &[u8; 32]) -> bool {
    let mut y: Fe = [0; 4];
    for (limb, b) in y.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        *limb = u64::from_le_bytes(w);
    }
    y[3] &= u64::MAX >> 1;
    let yy = fe_mul(&y, &y);
    let u = fe_sub_one(&yy);
    if u == [0; 4] {
        return true; // y = ±1: x = 0
    }
    let v = fe_add_one(&fe_mul(&D, &yy));
    jacobi(fe_canonical(&fe_mul(&u, &v)), P) == 1
}

// ------------------------------------------------------------------ arithmetic mod p
/// A number mod p as four little-endian 64-bit limbs, below 2²⁵⁶ (reduced only where
/// [`fe_canonical`] says so).
type Fe = [u64; 4];

/// p = 2²⁵⁵ − 19.
const P: Fe = [
    0xFFFF_FFFF_FFFF_FFED,
    u64::MAX,
    u64::MAX,
    0x7FFF_FFFF_FFFF_FFFF,
];

/// Ed25519's d = −121665/121666 mod p.
const D: Fe = [
    0x75EB_4DCA_1359_78A3,
    0x0070_0A4D_4141_D8AB,
    0x8CC7_4079_7779_E898,
    0x5203_6CEE_2B6F_FE73,
];

/// `a + c` over four limbs, the carry out of the top one folded back as `carry · 38`
/// (2²⁵⁶ ≡ 38 mod p); twice is enough for any `c` below 2⁶⁴.
fn fe_add_u64(a: &Fe, c: u64) -> Fe {
    let mut r = *a;
    let mut carry = c;
    for _ in 0..2 {
        for limb in r.iter_mut() {
            let (s, o) = limb.overflowing_add(carry);
            *limb = s;
            carry = u64::from(o);
        }
        carry *= 38;
    }
    r
}

/// `a · b` mod p, below 2²⁵⁶.
fn fe_mul(a: &Fe, b: &Fe) -> Fe {
    let mut t = [0u64; 8];
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &bj) in b.iter().enumerate() {
            let x = u128::from(ai) * u128::from(bj) + u128::from(t[i + j]) + u128::from(carry);
            t[i + j] = x as u64;
            carry = (x >> 64) as u64;
        }
        t[i + 4] = carry;
    }
    // the high half times 38 onto the low half; what carries out (at most 38) once more
    let mut r: Fe = [0; 4];
    let mut carry = 0u64;
    for i in 0..4 {
        let x = u128::from(t[i + 4]) * 38 + u128::from(t[i]) + u128::from(carry);
        r[i] = x as u64;
        carry = (x >> 64) as u64;
    }
    fe_add_u64(&r, carry * 38)
}

/// The representative in `0..p` (a value below 2²⁵⁶ = 2p + 38 needs two subtractions at
/// most).
fn fe_canonical(a: &Fe) -> Fe {
    let mut r = *a;
    for _ in 0..2 {
        let mut s: Fe = [0; 4];
        let mut borrow = false;
        for i in 0..4 {
            let (d, b1) = r[i].overflowing_sub(P[i]);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            s[i] = d;
            borrow = b1 | b2;
        }
        if !borrow {
            r = s;
        }
    }
    r
}

/// `a − 1` mod p, canonical.
fn fe_sub_one(a: &Fe) -> Fe {
    let a = fe_canonical(a);
    if a == [0; 4] {
        return [P[0] - 1, P[1], P[2], P[3]];
    }
    let mut r = a;
    for limb in r.iter_mut() {
        let (d, borrow) = limb.overflowing_sub(1);
        *limb = d;
        if !borrow {
            break;
        }
    }
    r
}

/// `a + 1` mod p, below 2²⁵⁶.
fn fe_add_one(a: &Fe) -> Fe {
    fe_add_u64(a, 1)
}

// ------------------------------------------------------------------ the Jacobi symbol
/// `(a | n)` for an odd `n > a >= 0`: 1, −1, or 0 when they share a factor. The binary
/// algorithm, both kept odd: `(a | n) = (a − n | n)` when `a > n`; when `a < n`, swap
/// them by reciprocity (the sign flips when both are 3 mod 4); each factor 2 taken out
/// of `a` flips it when `n` is 3 or 5 mod 8. The swap is a select, not a branch (it is
/// a coin flip a step), and the numbers drop to 128 then 64 bits as they shrink.
fn jacobi(a: Fe, n: Fe) -> i32 {
    let wide = |x: Fe| {
        (
            u128::from(x[3]) << 64 | u128::from(x[2]),
            u128::from(x[1]) << 64 | u128::from(x[0]),
        )
    };
    let (mut a, mut n) = (wide(a), wide(n));
    if a == (0, 0) {
        return 0;
    }
    let mut flips = 0u32; // the sign, as a parity
    let two = |z: u32, n: u128| (z & 1) & ((n as u32 >> 1 ^ n as u32 >> 2) & 1);
    let z = tz256(a);
    a = shr256(a, z);
    flips ^= two(z, n.1);
    let symbol = |flips: u32, n_is_one: bool| match (n_is_one, flips) {
        (false, _) => 0,
        (true, 0) => 1,
        (true, _) => -1,
    };
    while a.0 != 0 || n.0 != 0 {
        if a == n {
            return symbol(flips, n == (0, 1));
        }
        let (d, below) = sub256(a, n);
        flips ^= u32::from(below) & ((a.1 & n.1) as u32 >> 1) & 1;
        let d = if below { neg256(d) } else { d };
        n = if below { a } else { n };
        let z = tz256(d);
        a = shr256(d, z);
        flips ^= two(z, n.1);
    }
    let (mut a, mut n) = (a.1, n.1);
    while (a | n) >> 64 != 0 {
        if a == n {
            return symbol(flips, n == 1);
        }
        let (d, below) = a.overflowing_sub(n);
        flips ^= u32::from(below) & ((a & n) as u32 >> 1) & 1;
        let d = if below { d.wrapping_neg() } else { d };
        n = if below { a } else { n };
        let z = d.trailing_zeros();
        a = d >> z;
        flips ^= two(z, n);
    }
    let (mut a, mut n) = (a as u64, n as u64);
    loop {
        if a == n {
            return symbol(flips, n == 1);
        }
        let (d, below) = a.overflowing_sub(n);
        flips ^= u32::from(below) & ((a & n) as u32 >> 1) & 1;
        let d = if below { d.wrapping_neg() } else { d };
        n = if below { a } else { n };
        let z = d.trailing_zeros();
        a = d >> z;
        flips ^= two(z, u128::from(n));
    }
}

/// Trailing zeros of a nonzero (high, low) 256-bit number.
fn tz256(x: (u128, u128)) -> u32 {
    if x.1 == 0 {
        128 + x.0.trailing_zeros()
    } else {
        x.1.trailing_zeros()
    }
}

/// `x >> z`, `z < 256`.
fn shr256(x: (u128, u128), z: u32) -> (u128, u128) {
    match z {
        0 => x,
        1..=127 => (x.0 >> z, x.1 >> z | x.0 << (128 - z)),
        _ => (0, x.0 >> (z - 128)),
    }
}

/// `a − b` mod 2²⁵⁶ and whether it borrowed (`a < b`).
fn sub256(a: (u128, u128), b: (u128, u128)) -> ((u128, u128), bool) {
    let (lo, b1) = a.1.overflowing_sub(b.1);
    let (hi, b2) = a.0.overflowing_sub(b.0);
    let (hi, b3) = hi.overflowing_sub(u128::from(b1));
    ((hi, lo), b2 | b3)
}

/// `−x` mod 2²⁵⁶.
fn neg256(x: (u128, u128)) -> (u128, u128) {
    (
        (!x.0).wrapping_add(u128::from(x.1 == 0)),
        x.1.wrapping_neg(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b58;

    fn id(s: &str) -> [u8; 32] {
        b58::decode_32(s).expect("valid address")
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

    /// curve25519-dalek's decompression, the validator's rule, which `is_on_curve` must
    /// follow everywhere.
    fn dalek(bytes: &[u8; 32]) -> bool {
        curve25519_dalek::edwards::CompressedEdwardsY(*bytes)
            .decompress()
            .is_some()
    }

    fn le(x: &Fe) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (c, limb) in b.chunks_exact_mut(8).zip(x) {
            c.copy_from_slice(&limb.to_le_bytes());
        }
        b
    }

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    #[test]
    fn constants_are_p_and_d() {
        // p − 1 + 1 is p again, and d·121666 + 121666 ≡ 1 (d = −121665/121666)
        assert_eq!(fe_add_one(&fe_sub_one(&P)), P);
        let d_times = fe_canonical(&fe_mul(&D, &[121_666, 0, 0, 0]));
        assert_eq!(fe_canonical(&fe_add_u64(&d_times, 121_666)), [1, 0, 0, 0]);
        assert_eq!(jacobi([2, 0, 0, 0], P), -1); // p ≡ 5 mod 8: 2 is not a square
        assert_eq!(jacobi(fe_sub_one(&[0; 4]), P), 1); // p ≡ 1 mod 4: −1 is a square
        assert_eq!(jacobi([0; 4], P), 0);
    }

    /// Every y with an edge in it, with both sign bits: 0, ±1 and their neighbours, the
    /// 19 non-canonical values p .. 2²⁵⁵ − 1 (reduced, as dalek does), p − k, the powers
    /// of two and their neighbours, all-ones bytes.
    #[test]
    fn on_curve_follows_dalek_on_edge_encodings() {
        let mut ys: Vec<Fe> = Vec::new();
        for k in 0..=1_000u64 {
            ys.push([k, 0, 0, 0]);
            let mut pk = P;
            pk[0] -= k; // p − k (k <= 1000 cannot borrow: the low limb is ...ffed)
            ys.push(pk);
        }
        for k in 0..19u64 {
            ys.push([P[0] + k, P[1], P[2], P[3]]); // p .. 2^255 − 1
        }
        for bit in 0..256 {
            let mut x: Fe = [0; 4];
            x[bit / 64] = 1 << (bit % 64);
            for delta in [0u64, 1, u64::MAX] {
                ys.push(fe_add_u64(&x, delta)); // 2^k, 2^k + 1, 2^k + 2^64 − 1
            }
            let mut below = [u64::MAX; 4]; // 2^k − 1
            for (i, limb) in below.iter_mut().enumerate() {
                let lo = i * 64;
                *limb = if bit >= lo + 64 {
                    u64::MAX
                } else if bit <= lo {
                    0
                } else {
                    (1 << (bit - lo)) - 1
                };
            }
            ys.push(below);
        }
        ys.push([u64::MAX; 4]);
        let mut on = 0;
        for y in &ys {
            for sign in [0u8, 0x80] {
                let mut b = le(y);
                b[31] = b[31] & 0x7F | sign;
                assert_eq!(is_on_curve(&b), dalek(&b), "{}", b58::encode(&b));
                on += usize::from(dalek(&b));
            }
        }
        assert!(
            on > 100 && on < 2 * ys.len() - 100,
            "both answers occur: {on}"
        );
    }

    /// Random bytes (about half decompress), and random points of the curve and their
    /// negations, which must all be on it.
    #[test]
    fn on_curve_follows_dalek_on_random_bytes_and_points() {
        use curve25519_dalek::{constants::ED25519_BASEPOINT_POINT, scalar::Scalar};
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        let mut on = 0;
        for _ in 0..100_000 {
            let mut b = [0u8; 32];
            for c in b.chunks_exact_mut(8) {
                c.copy_from_slice(&next().to_le_bytes());
            }
            assert_eq!(is_on_curve(&b), dalek(&b), "{}", b58::encode(&b));
            on += usize::from(dalek(&b));
        }
        assert!(
            (45_000..55_000).contains(&on),
            "{on} of 100000 on the curve"
        );
        for _ in 0..500 {
            let mut k = [0u8; 32];
            for c in k.chunks_exact_mut(8) {
                c.copy_from_slice(&next().to_le_bytes());
            }
            let point = ED25519_BASEPOINT_POINT * Scalar::from_bytes_mod_order(k);
            for q in [point, -point] {
                let b = q.compress().to_bytes();
                assert!(is_on_curve(&b) && dalek(&b));
            }
        }
    }
}

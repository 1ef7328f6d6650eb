//! Account kinds every venue shares (spec §3, §6), twin of `engine_rs/python/decode.py`:
//! SPL Token / Token-2022 accounts and mints, the standard base64 of account data and
//! logs, and the checks every decoder makes (the venues' own decoders are in
//! [`crate::venues`]).
//!
//! Every decoder checks, in this order: the owner program (when the caller gives one),
//! the 8-byte discriminator (when the data has 8 bytes), the minimum size (real
//! accounts can be longer; trailing bytes are ignored), then field-level sanity (bools,
//! COption tags, token-account state, tick-array bitmap). Failures are typed errors;
//! no input panics.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::b58;
use crate::error::{EngineError, Result};

pub type Key = [u8; 32];

/// The SPL Token program.
pub const SPL_TOKEN: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
pub const SPL_TOKEN_ID: Key = b58::key(SPL_TOKEN);
/// The Token-2022 program.
pub const TOKEN_2022: &str = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
pub const TOKEN_2022_ID: Key = b58::key(TOKEN_2022);

/// The Clock sysvar (`Clock::get()` in a program: what an OpenBook order's `is_expired`
/// and a DLMM pair's volatility decay compare with) and the owner of the sysvars.
pub const SYSVAR_CLOCK_ID: &str = "SysvarC1ock11111111111111111111111111111111";
pub const SYSVAR_CLOCK: Key = b58::key(SYSVAR_CLOCK_ID);
pub const SYSVAR_OWNER: Key = b58::key("Sysvar1111111111111111111111111111111111111");
/// `Clock`: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
pub const CLOCK_SIZE: usize = 40;

pub(crate) fn err(msg: String) -> EngineError {
    EngineError::Decode(msg)
}

/// Bounds-checked little-endian reads (the size was checked before; a read past the end
/// is still an error, never a panic).
pub(crate) struct R<'a> {
    pub(crate) d: &'a [u8],
    pub(crate) what: &'static str,
}

impl<'a> R<'a> {
    /// Event bytes (`Program data:`, discriminator first) of at least `size`, read as
    /// `what`; shorter: `name: N bytes, needs size`.
    pub(crate) fn event(
        raw: &'a [u8],
        name: &str,
        size: usize,
        what: &'static str,
    ) -> Result<Self> {
        if raw.len() < size {
            return Err(EngineError::AccountTooShort(format!(
                "{name}: {} bytes, needs {size}",
                raw.len()
            )));
        }
        Ok(R { d: raw, what })
    }

    /// The first `N` bytes as an array (the size was checked).
    pub(crate) fn bytes_ref<const N: usize>(&self) -> Result<&'a [u8; N]> {
        self.d
            .get(..N)
            .and_then(|s| <&[u8; N]>::try_from(s).ok())
            .ok_or_else(|| {
                EngineError::AccountTooShort(format!("{}: fewer than {N} bytes", self.what))
            })
    }

    pub(crate) fn bytes<const N: usize>(&self, off: usize) -> Result<[u8; N]> {
        self.d
            .get(off..off + N)
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or_else(|| {
                EngineError::AccountTooShort(format!("{}: no {N} bytes at {off}", self.what))
            })
    }
    /// `N` values `step` bytes apart from `off` on, each read by `read` (keys, u64s...).
    pub(crate) fn array<T: Copy + Default, const N: usize>(
        &self,
        off: usize,
        step: usize,
        read: fn(&Self, usize) -> Result<T>,
    ) -> Result<[T; N]> {
        let mut out = [T::default(); N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = read(self, off + step * i)?;
        }
        Ok(out)
    }
    pub(crate) fn u8(&self, off: usize) -> Result<u8> {
        Ok(self.bytes::<1>(off)?[0])
    }
    pub(crate) fn u16(&self, off: usize) -> Result<u16> {
        Ok(u16::from_le_bytes(self.bytes(off)?))
    }
    pub(crate) fn u32(&self, off: usize) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(off)?))
    }
    pub(crate) fn i32(&self, off: usize) -> Result<i32> {
        Ok(i32::from_le_bytes(self.bytes(off)?))
    }
    pub(crate) fn u64(&self, off: usize) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes(off)?))
    }
    pub(crate) fn u128(&self, off: usize) -> Result<u128> {
        Ok(u128::from_le_bytes(self.bytes(off)?))
    }
    pub(crate) fn i128(&self, off: usize) -> Result<i128> {
        Ok(i128::from_le_bytes(self.bytes(off)?))
    }
    pub(crate) fn key(&self, off: usize) -> Result<Key> {
        self.bytes(off)
    }
    pub(crate) fn flag(&self, off: usize) -> Result<bool> {
        match self.u8(off)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(err(format!("{}: byte {off} is {b}, not a bool", self.what))),
        }
    }
    pub(crate) fn coption_key(&self, off: usize) -> Result<Option<Key>> {
        match self.u32(off)? {
            0 => Ok(None),
            1 => Ok(Some(self.key(off + 4)?)),
            t => Err(err(format!("{}: COption tag at {off} is {t}", self.what))),
        }
    }
    pub(crate) fn coption_u64(&self, off: usize) -> Result<Option<u64>> {
        match self.u32(off)? {
            0 => Ok(None),
            1 => Ok(Some(self.u64(off + 4)?)),
            t => Err(err(format!("{}: COption tag at {off} is {t}", self.what))),
        }
    }
}

/// An account kind as [`check`] takes it: its name, minimum size, discriminators (none:
/// not checked) and owner programs.
pub(crate) struct Layout<'l>(
    pub &'static str,
    pub usize,
    pub &'l [[u8; 8]],
    pub &'l [&'l Key],
);

impl Layout<'_> {
    /// [`check`] of `data` owned by `owner` as this kind.
    pub(crate) fn check<'a>(&self, data: &'a [u8], owner: Option<&Key>) -> Result<R<'a>> {
        check(data, self.0, self.1, self.2, owner, self.3)
    }
}

pub(crate) fn check<'a>(
    data: &'a [u8],
    what: &'static str,
    min_len: usize,
    discs: &[[u8; 8]],
    owner: Option<&Key>,
    owners: &[&Key],
) -> Result<R<'a>> {
    if let Some(o) = owner {
        if !owners.is_empty() && !owners.contains(&o) {
            return Err(EngineError::WrongOwner(format!(
                "{what}: owner {} is not {}",
                b58::encode(o),
                owners
                    .iter()
                    .map(|k| b58::encode(*k))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        }
    }
    if let (Some(first), Some(head)) = (discs.first(), data.get(..8)) {
        if !discs.iter().any(|d| d == head) {
            return Err(EngineError::WrongDiscriminator(format!(
                "{what}: discriminator {} is not {}",
                hex(head),
                hex(first)
            )));
        }
    }
    if data.len() < min_len {
        return Err(EngineError::AccountTooShort(format!(
            "{what}: {} bytes, needs at least {min_len}",
            data.len()
        )));
    }
    Ok(R { d: data, what })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `N` bytes at `off` of a fixed-size buffer (offsets are constants: checked when
/// compiled once inlined).
#[inline(always)]
pub(crate) fn at<const L: usize, const N: usize>(d: &[u8; L], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&d[off..off + N]);
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenAccount {
    pub mint: Key,
    pub owner: Key,
    pub amount: u64,
    pub delegate: Option<Key>,
    pub state: u8,
    pub is_native: Option<u64>,
    pub delegated_amount: u64,
    pub close_authority: Option<Key>,
}

pub fn decode_token_account(data: &[u8], owner: Option<&Key>) -> Result<TokenAccount> {
    let r =
        Layout("TokenAccount", 165, &[], &[&SPL_TOKEN_ID, &TOKEN_2022_ID]).check(data, owner)?;
    if data.len() > 165 && data.len() != 355 && !matches!(data[165], 0 | 2) {
        return Err(err(format!(
            "TokenAccount: account type byte is {}, not Account",
            data[165]
        )));
    }
    let state = r.u8(108)?;
    if state > 2 {
        return Err(err(format!("TokenAccount: state {state} is not 0, 1 or 2")));
    }
    Ok(TokenAccount {
        mint: r.key(0)?,
        owner: r.key(32)?,
        amount: r.u64(64)?,
        delegate: r.coption_key(72)?,
        state,
        is_native: r.coption_u64(109)?,
        delegated_amount: r.u64(121)?,
        close_authority: r.coption_key(129)?,
    })
}

/// (epoch, maximum_fee, transfer_fee_basis_points)
pub type TransferFee = (u64, u64, u16);

#[derive(Debug, Clone, PartialEq)]
pub struct Mint {
    pub mint_authority: Option<Key>,
    pub supply: u64,
    pub decimals: u8,
    pub is_initialized: bool,
    pub freeze_authority: Option<Key>,
    pub older_transfer_fee: Option<TransferFee>,
    pub newer_transfer_fee: Option<TransferFee>,
}

pub fn decode_mint(data: &[u8], owner: Option<&Key>) -> Result<Mint> {
    let r = Layout("Mint", 82, &[], &[&SPL_TOKEN_ID, &TOKEN_2022_ID]).check(data, owner)?;
    let (mut older, mut newer) = (None, None);
    if data.len() > 165 && data.len() != 355 {
        if data[165] != 1 {
            return Err(err(format!(
                "Mint: account type byte is {}, not Mint",
                data[165]
            )));
        }
        let mut off = 166usize;
        while off + 4 <= data.len() {
            let (ext, len) = (r.u16(off)?, usize::from(r.u16(off + 2)?));
            if off + 4 + len > data.len() {
                return Err(EngineError::AccountTooShort(format!(
                    "Mint: extension {ext} at {off} runs past the end"
                )));
            }
            if ext == 1 && len >= 108 {
                let v = off + 4 + 72;
                older = Some((r.u64(v)?, r.u64(v + 8)?, r.u16(v + 16)?));
                newer = Some((r.u64(v + 18)?, r.u64(v + 26)?, r.u16(v + 34)?));
            }
            if ext == 0 && len == 0 {
                break;
            }
            off += 4 + len;
        }
    }
    Ok(Mint {
        mint_authority: r.coption_key(0)?,
        supply: r.u64(36)?,
        decimals: r.u8(44)?,
        is_initialized: r.flag(45)?,
        freeze_authority: r.coption_key(46)?,
        older_transfer_fee: older,
        newer_transfer_fee: newer,
    })
}

// ------------------------------------------------------------------ logs
/// Standard alphabet, no padding in the body (the padding rules are checked by
/// [`b64decode_into`]), trailing bits ignored.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Append the bytes of standard base64 `text` to `out`, accepting exactly what Python
/// 3.11's `base64.b64decode(text, validate=True)` (`binascii.a2b_base64(strict_mode=True)`)
/// accepts: alphabet characters, then only '='; no leading '='; a body of 4n characters
/// with any padding, 4n+2 with exactly "==", 4n+3 with exactly "="; non-zero trailing
/// bits ignored. On error `out` is left as it was.
pub fn b64decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let pads = text.iter().rev().take_while(|&&c| c == b'=').count();
    let body = &text[..text.len() - pads];
    if body.is_empty() {
        return if pads == 0 {
            Ok(())
        } else {
            Err(err("not base64: leading padding".into()))
        };
    }
    let padded = match body.len() % 4 {
        0 => true,
        1 => {
            return Err(err(format!(
                "not base64: {} data characters is 1 more than a multiple of 4",
                body.len()
            )))
        }
        2 => pads == 2,
        _ => pads == 1,
    };
    if !padded {
        return Err(err("not base64: incorrect padding".into()));
    }
    let before = out.len();
    // whole 16-character blocks with SIMD where the CPU has it, the rest (and any block
    // holding a character outside the alphabet) by the base64 crate
    let done = simd_b64::decode_blocks(body, out);
    B64.decode_vec(&body[done..], out).map_err(|e| {
        out.truncate(before);
        err(format!("not base64: {e}"))
    })
}

/// Base64 decoding of whole 16-character blocks with SSSE3 (Muła's and Lemire's
/// method, as in aklomp/base64): a block is checked against the alphabet by two nibble
/// lookups, translated by a third, packed to 12 bytes by two multiply-adds and a shuffle.
#[cfg(target_arch = "x86_64")]
mod simd_b64 {
    use std::arch::x86_64::*;

    /// Decode the leading whole blocks of `text` that are all alphabet characters,
    /// appending their bytes to `out`; returns how many characters were consumed (a
    /// multiple of 16). Nothing without SSSE3.
    pub fn decode_blocks(text: &[u8], out: &mut Vec<u8>) -> usize {
        if text.len() < 16 || !is_x86_feature_detected!("ssse3") {
            return 0;
        }
        let blocks = text.len() / 16;
        // a block stores 16 (SSSE3) or 32 (AVX2, two blocks) bytes of which 12 or 24
        // count: 8 bytes of slack, written into the spare capacity (no zero fill)
        out.reserve(blocks * 12 + 8);
        let spare = out.spare_capacity_mut();
        let (dst, room) = (spare.as_mut_ptr().cast::<u8>(), spare.len());
        let mut done = 0;
        if text.len() >= 32 && is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was detected; the callee reads `text` within its length and
            // writes at most `room` bytes at `dst` (the vector's spare capacity).
            done = unsafe { blocks_avx2(text, dst, room) };
        }
        if done == text.len() / 32 * 32 {
            let o = done / 16 * 12;
            // SAFETY: SSSE3 was detected above; as for AVX2, after the `o` bytes written.
            done += unsafe { blocks_ssse3(&text[done..], dst.add(o), room - o) };
        }
        // SAFETY: the first `done / 16 * 12` spare bytes were written above.
        unsafe { out.set_len(out.len() + done / 16 * 12) };
        done
    }

    /// [`blocks_ssse3`] 32 characters at a time.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    /// `out` must be valid for writes of `room` bytes.
    #[target_feature(enable = "avx2")]
    unsafe fn blocks_avx2(text: &[u8], out: *mut u8, room: usize) -> usize {
        let lut_lo = _mm256_setr_epi8(
            0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B,
            0x1B, 0x1A, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A,
            0x1B, 0x1B, 0x1B, 0x1A,
        );
        let lut_hi = _mm256_setr_epi8(
            0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
            0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10,
            0x10, 0x10, 0x10, 0x10,
        );
        let lut_roll = _mm256_setr_epi8(
            0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19, 4, -65, -65, -71,
            -71, 0, 0, 0, 0, 0, 0, 0, 0,
        );
        let mask_2f = _mm256_set1_epi8(0x2F);
        let pack = _mm256_setr_epi8(
            2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14,
            13, 12, -1, -1, -1, -1,
        );
        let lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
        let (mut i, mut o) = (0usize, 0usize);
        while i + 32 <= text.len() && o + 32 <= room {
            // SAFETY: i + 32 <= text.len() and o + 32 <= room (loop condition)
            let v = unsafe { _mm256_loadu_si256(text.as_ptr().add(i).cast()) };
            let hi_nibbles = _mm256_and_si256(_mm256_srli_epi32(v, 4), mask_2f);
            let lo_nibbles = _mm256_and_si256(v, mask_2f);
            let hi = _mm256_shuffle_epi8(lut_hi, hi_nibbles);
            let lo = _mm256_shuffle_epi8(lut_lo, lo_nibbles);
            if _mm256_testz_si256(lo, hi) == 0 {
                break; // not all alphabet: the narrower loops and the scalar decoder see it
            }
            let eq_2f = _mm256_cmpeq_epi8(v, mask_2f);
            let roll = _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(eq_2f, hi_nibbles));
            let sextets = _mm256_add_epi8(v, roll);
            let merged = _mm256_maddubs_epi16(sextets, _mm256_set1_epi32(0x0140_0140));
            let words = _mm256_madd_epi16(merged, _mm256_set1_epi32(0x0001_1000));
            let bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(words, pack), lanes);
            // SAFETY: as above
            unsafe { _mm256_storeu_si256(out.add(o).cast(), bytes) };
            i += 32;
            o += 24;
        }
        i
    }

    /// # Safety
    /// The CPU must support SSSE3; `out` must be valid for writes of `room` bytes.
    #[target_feature(enable = "ssse3")]
    unsafe fn blocks_ssse3(text: &[u8], out: *mut u8, room: usize) -> usize {
        let lut_lo = _mm_setr_epi8(
            0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B,
            0x1B, 0x1A,
        );
        let lut_hi = _mm_setr_epi8(
            0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
            0x10, 0x10,
        );
        let lut_roll = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
        let mask_2f = _mm_set1_epi8(0x2F);
        let pack = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
        let (mut i, mut o) = (0usize, 0usize);
        while i + 16 <= text.len() && o + 16 <= room {
            // SAFETY: i + 16 <= text.len() and o + 16 <= room (loop condition)
            let v = unsafe { _mm_loadu_si128(text.as_ptr().add(i).cast()) };
            let hi_nibbles = _mm_and_si128(_mm_srli_epi32(v, 4), mask_2f);
            let lo_nibbles = _mm_and_si128(v, mask_2f);
            let hi = _mm_shuffle_epi8(lut_hi, hi_nibbles);
            let lo = _mm_shuffle_epi8(lut_lo, lo_nibbles);
            if _mm_movemask_epi8(_mm_cmpgt_epi8(_mm_and_si128(lo, hi), _mm_setzero_si128())) != 0 {
                break; // not all alphabet: the scalar decoder reports it
            }
            let eq_2f = _mm_cmpeq_epi8(v, mask_2f);
            let roll = _mm_shuffle_epi8(lut_roll, _mm_add_epi8(eq_2f, hi_nibbles));
            let sextets = _mm_add_epi8(v, roll);
            let merged = _mm_maddubs_epi16(sextets, _mm_set1_epi32(0x0140_0140));
            let words = _mm_madd_epi16(merged, _mm_set1_epi32(0x0001_1000));
            let bytes = _mm_shuffle_epi8(words, pack);
            // SAFETY: as above
            unsafe { _mm_storeu_si128(out.add(o).cast(), bytes) };
            i += 16;
            o += 12;
        }
        i
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd_b64 {
    pub fn decode_blocks(_text: &[u8], _out: &mut Vec<u8>) -> usize {
        0
    }
}

/// [`b64decode_into`] into a new vector.
pub fn b64decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    b64decode_into(text.as_bytes(), &mut out)?;
    Ok(out)
}

/// The Clock sysvar's `unix_timestamp` (its account's bytes; `owner` when given must be
/// the sysvar owner), negative read as 0.
pub fn clock_unix_timestamp(data: &[u8], owner: Option<&Key>) -> Result<u64> {
    let r = check(data, "Clock", CLOCK_SIZE, &[], owner, &[&SYSVAR_OWNER])?;
    Ok(u64::try_from(i64::from_le_bytes(r.bytes::<8>(32)?)).unwrap_or(0))
}

/// The Clock sysvar's slot and `unix_timestamp` (a negative time read as 0), as a
/// program reads `Clock::get()`.
pub fn clock_slot_and_time(data: &[u8], owner: Option<&Key>) -> Result<(u64, u64)> {
    let r = check(data, "Clock", CLOCK_SIZE, &[], owner, &[&SYSVAR_OWNER])?;
    let t = u64::try_from(i64::from_le_bytes(r.bytes::<8>(32)?)).unwrap_or(0);
    Ok((r.u64(0)?, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64_matches_known_cases() {
        assert_eq!(b64decode(""), Ok(vec![]));
        assert_eq!(b64decode("QQ=="), Ok(b"A".to_vec()));
        assert_eq!(b64decode("QUI="), Ok(b"AB".to_vec()));
        assert_eq!(b64decode("QUJD"), Ok(b"ABC".to_vec()));
        assert!(b64decode("QQ").is_err() && b64decode("Q").is_err() && b64decode("Q===").is_err());
        // Python 3.11 b64decode(validate=True): a full body takes any padding, a partial
        // quantum exactly its own; no leading '='; nothing after the padding
        assert_eq!(b64decode("QUJD==="), Ok(b"ABC".to_vec()));
        assert_eq!(b64decode("QR=="), Ok(b"A".to_vec())); // trailing bits ignored
        for bad in [
            "=",
            "==",
            "QQ=",
            "QQ===",
            "QUI",
            "QUI==",
            "QQ=A=",
            "QUJD=Q",
            "QU D",
            "QUJ\u{e9}",
        ] {
            assert!(b64decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn simd_blocks_decode_as_the_scalar_path() {
        use base64::engine::general_purpose::STANDARD;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for len in [0usize, 1, 11, 12, 13, 24, 100, 653, 1000] {
            let data: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
            let text = STANDARD.encode(&data);
            assert_eq!(b64decode(&text), Ok(data.clone()), "{len}");
            // a bad character in any block is an error, wherever it is
            for _ in 0..20 {
                if text.len() < 4 {
                    break;
                }
                let mut bad = text.clone().into_bytes();
                let at = (rnd() as usize) % (bad.len() - 2);
                bad[at] = b"-_.~ \n\x80\xff"[(rnd() % 8) as usize];
                let bad = String::from_utf8_lossy(&bad).into_owned();
                assert!(b64decode(&bad).is_err(), "{bad}");
            }
        }
        // every alphabet character in every lane
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let text = alphabet.repeat(3);
        let want = B64.decode(text.as_bytes()).expect("valid");
        assert_eq!(b64decode(&text), Ok(want));
        let mut out = Vec::new();
        let done = simd_b64::decode_blocks(text.as_bytes(), &mut out);
        assert!(done == 0 || done == text.len());
    }

    #[test]
    fn token_program_ids_are_the_published_ones() {
        assert_eq!(b58::encode(&SPL_TOKEN_ID), SPL_TOKEN);
        assert_eq!(b58::encode(&TOKEN_2022_ID), TOKEN_2022);
    }

    /// solders' `Clock(slot=5, epoch_start_timestamp=7, epoch=1, leader_schedule_epoch=2,
    /// unix_timestamp=1_700_000_123)` as bytes.
    const SOLDERS_CLOCK: &str =
        "05000000000000000700000000000000010000000000000002000000000000007bf1536500000000";

    #[test]
    fn the_clock_sysvar_gives_its_unix_time() {
        let raw: Vec<u8> = (0..SOLDERS_CLOCK.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&SOLDERS_CLOCK[i..i + 2], 16).ok())
            .collect();
        assert_eq!(
            clock_unix_timestamp(&raw, Some(&SYSVAR_OWNER)).ok(),
            Some(1_700_000_123)
        );
        let mut negative = raw.clone();
        negative[32..40].copy_from_slice(&(-5i64).to_le_bytes());
        assert_eq!(clock_unix_timestamp(&negative, None).ok(), Some(0));
        assert!(matches!(
            clock_unix_timestamp(&raw[..39], None),
            Err(EngineError::AccountTooShort(_))
        ));
        assert!(matches!(
            clock_unix_timestamp(&raw, Some(&crate::venues::openbook_v2::PROGRAM)),
            Err(EngineError::WrongOwner(_))
        ));
    }
}

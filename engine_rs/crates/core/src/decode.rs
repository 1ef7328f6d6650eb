//! Account and log decoders (spec §1–3, §6), twin of `engine_rs/python/accounts.py`.
//!
//! Every decoder checks, in this order: the owner program (when the caller gives one),
//! the 8-byte discriminator (when the data has 8 bytes), the minimum size (real
//! accounts can be longer; trailing bytes are ignored), then field-level sanity (bools,
//! COption tags, token-account state, tick-array bitmap). Failures are typed errors;
//! no input panics.

use std::sync::OnceLock;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::b58;
use crate::error::{EngineError, Result};

pub type Key = [u8; 32];

pub const DISC_WHIRLPOOL: [u8; 8] = [0x3f, 0x95, 0xd1, 0x0c, 0xe1, 0x80, 0x63, 0x09];
pub const DISC_FIXED_TICK_ARRAY: [u8; 8] = [69, 97, 189, 190, 110, 7, 66, 187];
pub const DISC_DYNAMIC_TICK_ARRAY: [u8; 8] = [17, 216, 246, 142, 225, 199, 218, 56];
pub const DISC_CPMM_POOL: [u8; 8] = [0xf7, 0xed, 0xe3, 0xf5, 0xd7, 0xc3, 0xde, 0x46];
pub const DISC_CPMM_CONFIG: [u8; 8] = [0xda, 0xf4, 0x21, 0x68, 0xcb, 0xcb, 0x2b, 0x6f];
pub const DISC_TRADED: [u8; 8] = [225, 202, 73, 175, 147, 43, 160, 150];
pub const DISC_SWAP_EVENT: [u8; 8] = [64, 198, 205, 232, 38, 8, 113, 226];
pub const TICK_ARRAY_SIZE: usize = 88;
const TICK_LEN: usize = 113;

/// The programs that may own each account kind.
pub struct Programs {
    pub amm_v4: Key,
    pub cpmm: Key,
    pub whirlpool: Key,
    pub whirlpool_immutable: Key,
    pub spl_token: Key,
    pub token_2022: Key,
}

/// The program ids, decoded once.
pub fn programs() -> &'static Programs {
    static P: OnceLock<Programs> = OnceLock::new();
    P.get_or_init(|| {
        let k = |s: &str| b58::decode_32(s).unwrap_or([0u8; 32]);
        Programs {
            amm_v4: k("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"),
            cpmm: k("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"),
            whirlpool: k("whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"),
            whirlpool_immutable: k("iwhrLHdsgrvmnwU8GF2FSmyabSMjfHwFGJAX2ufJ3ZN"),
            spl_token: k("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
            token_2022: k("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"),
        }
    })
}

fn err(msg: String) -> EngineError {
    EngineError::Decode(msg)
}

/// Bounds-checked little-endian reads (the size was checked before; a read past the end
/// is still an error, never a panic).
struct R<'a> {
    d: &'a [u8],
    what: &'static str,
}

impl<'a> R<'a> {
    /// The first `N` bytes as an array (the size was checked).
    fn bytes_ref<const N: usize>(&self) -> Result<&'a [u8; N]> {
        self.d
            .get(..N)
            .and_then(|s| <&[u8; N]>::try_from(s).ok())
            .ok_or_else(|| {
                EngineError::AccountTooShort(format!("{}: fewer than {N} bytes", self.what))
            })
    }

    fn bytes<const N: usize>(&self, off: usize) -> Result<[u8; N]> {
        self.d
            .get(off..off + N)
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or_else(|| {
                EngineError::AccountTooShort(format!("{}: no {N} bytes at {off}", self.what))
            })
    }
    fn u8(&self, off: usize) -> Result<u8> {
        Ok(self.bytes::<1>(off)?[0])
    }
    fn u16(&self, off: usize) -> Result<u16> {
        Ok(u16::from_le_bytes(self.bytes(off)?))
    }
    fn u32(&self, off: usize) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(off)?))
    }
    fn i32(&self, off: usize) -> Result<i32> {
        Ok(i32::from_le_bytes(self.bytes(off)?))
    }
    fn u64(&self, off: usize) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes(off)?))
    }
    fn u128(&self, off: usize) -> Result<u128> {
        Ok(u128::from_le_bytes(self.bytes(off)?))
    }
    fn i128(&self, off: usize) -> Result<i128> {
        Ok(i128::from_le_bytes(self.bytes(off)?))
    }
    fn key(&self, off: usize) -> Result<Key> {
        self.bytes(off)
    }
    fn flag(&self, off: usize) -> Result<bool> {
        match self.u8(off)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(err(format!("{}: byte {off} is {b}, not a bool", self.what))),
        }
    }
    fn coption_key(&self, off: usize) -> Result<Option<Key>> {
        match self.u32(off)? {
            0 => Ok(None),
            1 => Ok(Some(self.key(off + 4)?)),
            t => Err(err(format!("{}: COption tag at {off} is {t}", self.what))),
        }
    }
    fn coption_u64(&self, off: usize) -> Result<Option<u64>> {
        match self.u32(off)? {
            0 => Ok(None),
            1 => Ok(Some(self.u64(off + 4)?)),
            t => Err(err(format!("{}: COption tag at {off} is {t}", self.what))),
        }
    }
}

fn check<'a>(
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

#[derive(Debug, Clone, PartialEq)]
pub struct RaydiumAmmV4 {
    pub u64s: [u64; 12], // status, nonce, coin_decimals, pc_decimals, state, trade fee n/d, swap fee n/d, need_take_pnl coin/pc, pool_open_time
    pub keys: [Key; 10], // coin_vault .. amm_owner
    pub lp_amount: u64,
}

pub fn decode_raydium_amm_v4(data: &[u8], owner: Option<&Key>) -> Result<RaydiumAmmV4> {
    let p = programs();
    let r = check(data, "AmmInfo", 752, &[], owner, &[&p.amm_v4])?;
    let offs = [0, 8, 32, 40, 48, 144, 152, 176, 184, 192, 200, 224];
    let mut u64s = [0u64; 12];
    for (v, &o) in u64s.iter_mut().zip(&offs) {
        *v = r.u64(o)?;
    }
    let koffs = [336, 368, 400, 432, 464, 496, 528, 560, 592, 688];
    let mut keys = [[0u8; 32]; 10];
    for (k, &o) in keys.iter_mut().zip(&koffs) {
        *k = r.key(o)?;
    }
    Ok(RaydiumAmmV4 {
        u64s,
        keys,
        lp_amount: r.u64(720)?,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct RaydiumCpmmPool {
    pub keys: [Key; 10],
    pub u8s: [u8; 5], // auth_bump, status, lp_mint_decimals, mint_0_decimals, mint_1_decimals
    pub u64s: [u64; 7], // lp_supply, protocol 0/1, fund 0/1, open_time, recent_epoch
    pub creator_fee_on: u8,
    pub enable_creator_fee: bool,
    pub creator_fees: [u64; 2],
}

pub fn decode_raydium_cpmm(data: &[u8], owner: Option<&Key>) -> Result<RaydiumCpmmPool> {
    let p = programs();
    let r = check(data, "PoolState", 637, &[DISC_CPMM_POOL], owner, &[&p.cpmm])?;
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

#[derive(Debug, Clone, PartialEq)]
pub struct RaydiumAmmConfig {
    pub bump: u8,
    pub disable_create_pool: bool,
    pub index: u16,
    pub rates: [u64; 4], // trade, protocol, fund fee rates; create_pool_fee
    pub protocol_owner: Key,
    pub fund_owner: Key,
    pub creator_fee_rate: u64,
}

pub fn decode_raydium_amm_config(data: &[u8], owner: Option<&Key>) -> Result<RaydiumAmmConfig> {
    let p = programs();
    let r = check(
        data,
        "AmmConfig",
        236,
        &[DISC_CPMM_CONFIG],
        owner,
        &[&p.cpmm],
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

#[derive(Debug, Clone, PartialEq)]
pub struct Whirlpool {
    pub whirlpools_config: Key,
    pub whirlpool_bump: u8,
    pub u16s: [u16; 4], // tick_spacing, fee_tier_index_seed, fee_rate, protocol_fee_rate
    pub liquidity: u128,
    pub sqrt_price: u128,
    pub tick_current_index: i32,
    pub protocol_fee_owed: [u64; 2],
    pub token_mint_a: Key,
    pub token_vault_a: Key,
    pub fee_growth_global_a: u128,
    pub token_mint_b: Key,
    pub token_vault_b: Key,
    pub fee_growth_global_b: u128,
    pub reward_last_updated_timestamp: u64,
    pub reward_mints: [Key; 3],
}

pub fn decode_whirlpool(data: &[u8], owner: Option<&Key>) -> Result<Whirlpool> {
    let p = programs();
    let owners = [&p.whirlpool, &p.whirlpool_immutable];
    let r = check(data, "Whirlpool", 653, &[DISC_WHIRLPOOL], owner, &owners)?;
    // the size is checked: read from a fixed-size array, no bounds check per field
    let d: &[u8; 653] = r.bytes_ref()?;
    Ok(Whirlpool {
        whirlpools_config: at(d, 8),
        whirlpool_bump: d[40],
        u16s: [
            u16::from_le_bytes(at(d, 41)),
            u16::from_le_bytes(at(d, 43)),
            u16::from_le_bytes(at(d, 45)),
            u16::from_le_bytes(at(d, 47)),
        ],
        liquidity: u128::from_le_bytes(at(d, 49)),
        sqrt_price: u128::from_le_bytes(at(d, 65)),
        tick_current_index: i32::from_le_bytes(at(d, 81)),
        protocol_fee_owed: [u64::from_le_bytes(at(d, 85)), u64::from_le_bytes(at(d, 93))],
        token_mint_a: at(d, 101),
        token_vault_a: at(d, 133),
        fee_growth_global_a: u128::from_le_bytes(at(d, 165)),
        token_mint_b: at(d, 181),
        token_vault_b: at(d, 213),
        fee_growth_global_b: u128::from_le_bytes(at(d, 245)),
        reward_last_updated_timestamp: u64::from_le_bytes(at(d, 261)),
        reward_mints: [at(d, 269), at(d, 397), at(d, 525)],
    })
}

/// `N` bytes at `off` of a fixed-size buffer (offsets are constants: checked when
/// compiled once inlined).
#[inline(always)]
fn at<const L: usize, const N: usize>(d: &[u8; L], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&d[off..off + N]);
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct TickArray {
    pub dynamic: bool,
    pub start_tick_index: i32,
    pub whirlpool: Key,
    /// Initialized ticks only: (i, liquidity_net, liquidity_gross).
    pub ticks: Vec<(u8, i128, u128)>,
}

pub fn decode_tick_array(data: &[u8], owner: Option<&Key>) -> Result<TickArray> {
    let p = programs();
    let owners = [&p.whirlpool, &p.whirlpool_immutable];
    let discs = [DISC_FIXED_TICK_ARRAY, DISC_DYNAMIC_TICK_ARRAY];
    if data.get(..8) == Some(&DISC_DYNAMIC_TICK_ARRAY[..]) {
        let r = check(data, "DynamicTickArray", 148, &discs, owner, &owners)?;
        let bitmap = r.u128(44)?;
        let mut ticks = Vec::new();
        let mut off = 60usize;
        for i in 0..TICK_ARRAY_SIZE {
            let Some(&tag) = data.get(off) else {
                return Err(EngineError::AccountTooShort(format!(
                    "DynamicTickArray: tick {i} at {off} is past the end"
                )));
            };
            let set = bitmap >> i & 1 == 1;
            match (tag, set) {
                (0, false) => off += 1,
                (0, true) => {
                    return Err(err(format!(
                        "DynamicTickArray: bitmap says tick {i} is initialized"
                    )))
                }
                (1, true) => {
                    if off + TICK_LEN > data.len() {
                        return Err(EngineError::AccountTooShort(format!(
                            "DynamicTickArray: tick {i} runs past the end"
                        )));
                    }
                    ticks.push((i as u8, r.i128(off + 1)?, r.u128(off + 17)?));
                    off += TICK_LEN;
                }
                _ => {
                    return Err(err(format!(
                        "DynamicTickArray: tick {i} tag {tag} disagrees with the bitmap"
                    )))
                }
            }
        }
        return Ok(TickArray {
            dynamic: true,
            start_tick_index: r.i32(8)?,
            whirlpool: r.key(12)?,
            ticks,
        });
    }
    let r = check(data, "TickArray", 9988, &discs, owner, &owners)?;
    let mut ticks = Vec::new();
    for i in 0..TICK_ARRAY_SIZE {
        let off = 12 + TICK_LEN * i;
        if r.flag(off)? {
            ticks.push((i as u8, r.i128(off + 1)?, r.u128(off + 17)?));
        }
    }
    Ok(TickArray {
        dynamic: false,
        start_tick_index: r.i32(8)?,
        whirlpool: r.key(9956)?,
        ticks,
    })
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
    let p = programs();
    let r = check(
        data,
        "TokenAccount",
        165,
        &[],
        owner,
        &[&p.spl_token, &p.token_2022],
    )?;
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
    let p = programs();
    let r = check(data, "Mint", 82, &[], owner, &[&p.spl_token, &p.token_2022])?;
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

/// 0 = swap_base_in, 1 = swap_base_out; then the seven u64 fields.
pub type RayLog = (u8, [u64; 7]);

pub fn parse_ray_log(b64: &str) -> Result<Option<RayLog>> {
    let raw = b64decode(b64).map_err(|e| err(format!("ray_log: {e}")))?;
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
    let mut v = [0u64; 7];
    for (i, x) in v.iter_mut().enumerate() {
        *x = r.u64(1 + 8 * i)?;
    }
    Ok(Some((kind - 3, v)))
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Traded {
        whirlpool: Key,
        a_to_b: bool,
        pre_sqrt_price: u128,
        post_sqrt_price: u128,
        amounts: [u64; 6],
    },
    CpmmSwap {
        pool_id: Key,
        amounts: [u64; 6],
        base_input: bool,
        /// input_mint, output_mint, trade_fee, creator_fee, creator_fee_on_input
        newer: Option<(Key, Key, u64, u64, bool)>,
    },
}

pub fn parse_program_data(b64: &str) -> Result<Option<Event>> {
    let raw = b64decode(b64).map_err(|e| err(format!("program data: {e}")))?;
    parse_program_data_bytes(&raw)
}

/// [`parse_program_data`] of the bytes the base64 text decoded to.
pub fn parse_program_data_bytes(raw: &[u8]) -> Result<Option<Event>> {
    if raw.len() < 8 {
        return Err(EngineError::AccountTooShort(format!(
            "program data: {} bytes, no discriminator",
            raw.len()
        )));
    }
    let r = R {
        d: raw,
        what: "event",
    };
    let head = &raw[..8];
    if head == DISC_TRADED {
        if raw.len() < 121 {
            return Err(EngineError::AccountTooShort(format!(
                "Traded: {} bytes, needs 121",
                raw.len()
            )));
        }
        let mut amounts = [0u64; 6];
        for (i, a) in amounts.iter_mut().enumerate() {
            *a = r.u64(73 + 8 * i)?;
        }
        return Ok(Some(Event::Traded {
            whirlpool: r.key(8)?,
            a_to_b: r.flag(40)?,
            pre_sqrt_price: r.u128(41)?,
            post_sqrt_price: r.u128(57)?,
            amounts,
        }));
    }
    if head == DISC_SWAP_EVENT {
        if raw.len() < 8 + 81 {
            return Err(EngineError::AccountTooShort(format!(
                "SwapEvent: {} bytes, needs 89",
                raw.len()
            )));
        }
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
        return Ok(Some(Event::CpmmSwap {
            pool_id,
            amounts,
            base_input,
            newer,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ray_log_spec_vector() {
        let got = parse_ray_log(
            "AxPMGo8xAAAAAAAAAAAAAAACAAAAAAAAAAC4ZNlFAAAAg1tiLxJGAAAX2yfkXwEAAGSxk/cAAAAA",
        );
        assert_eq!(
            got,
            Ok(Some((
                0,
                [
                    212854295571,
                    0,
                    2,
                    300000000000,
                    77043918330755,
                    1511361338135,
                    4153651556
                ]
            )))
        );
        assert!(parse_ray_log("mismatch: input:1").is_err());
    }

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
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in [0usize, 7, 8, 82, 165, 200, 653, 752, 9988, 10_004] {
            for disc in [
                None,
                Some(DISC_WHIRLPOOL),
                Some(DISC_DYNAMIC_TICK_ARRAY),
                Some(DISC_FIXED_TICK_ARRAY),
                Some(DISC_CPMM_POOL),
            ] {
                let mut d: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                if let (Some(dc), true) = (disc, len >= 8) {
                    d[..8].copy_from_slice(&dc);
                }
                let _ = decode_raydium_amm_v4(&d, None);
                let _ = decode_raydium_cpmm(&d, None);
                let _ = decode_raydium_amm_config(&d, None);
                let _ = decode_whirlpool(&d, None);
                let _ = decode_tick_array(&d, None);
                let _ = decode_token_account(&d, None);
                let _ = decode_mint(&d, None);
            }
        }
    }
}

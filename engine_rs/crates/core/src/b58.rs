//! Base58 with the Bitcoin alphabet (spec §4.3), as Solana prints addresses and signatures.
//!
//! Each leading zero byte is one leading `'1'`. The conversion works on limbs of
//! 58^5 (base58 side) and 2^32 (binary side), so one multiply-add moves 5 base58 digits
//! or 4 bytes at a time instead of one. Inputs up to 64 bytes (addresses, signatures)
//! use fixed stack buffers and never touch the heap until the result is built.

use crate::error::{EngineError, Result};

pub const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const B58_5: u64 = 58 * 58 * 58 * 58 * 58; // 656,356,768 < 2^30

/// Digit value of each ASCII byte, or 255 when it is not in the alphabet.
const DECODE: [u8; 128] = {
    let mut t = [255u8; 128];
    let mut i = 0;
    while i < 58 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Base58 text of `data`.
pub fn encode(data: &[u8]) -> String {
    let mut out = Vec::with_capacity(data.len() * 138 / 100 + 2);
    encode_into(data, &mut out);
    // every byte comes from ALPHABET: ASCII
    String::from_utf8(out).unwrap_or_default()
}

/// Append the base58 text of `data` to `out` (ASCII bytes).
pub fn encode_into(data: &[u8], out: &mut Vec<u8>) {
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    let rest = &data[zeros..];
    // limbs of 58^5, least significant first; each 4-byte word of input is folded in
    // with one pass of multiply-add (limb * 2^32 + carry < 2^62)
    let max_limbs = rest.len() * 8 / 29 + 2; // 4 bytes ~ 1.1 limbs of 29.3 bits
    let mut stack = [0u64; 24];
    let mut heap = Vec::new();
    let limbs: &mut [u64] = if max_limbs <= stack.len() {
        &mut stack[..max_limbs]
    } else {
        heap.resize(max_limbs, 0);
        &mut heap
    };
    let mut used = 0usize;
    let head = rest.len() % 4;
    let mut fold = |word: u64, shift: u32| {
        let mut carry = word;
        for limb in limbs[..used].iter_mut() {
            let x = (*limb << shift) + carry;
            *limb = x % B58_5;
            carry = x / B58_5;
        }
        while carry > 0 {
            limbs[used] = carry % B58_5;
            carry /= B58_5;
            used += 1;
        }
    };
    if head > 0 {
        let word = rest[..head]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        fold(word, 8 * head as u32);
    }
    for chunk in rest[head..].chunks_exact(4) {
        let word = u64::from(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        fold(word, 32);
    }
    out.extend(std::iter::repeat_n(b'1', zeros));
    // most significant limb without its leading zero digits, then 5 digits per limb
    let mut digits = [0u8; 5];
    for (i, &limb) in limbs[..used].iter().rev().enumerate() {
        let mut v = limb;
        for d in digits.iter_mut().rev() {
            *d = ALPHABET[(v % 58) as usize];
            v /= 58;
        }
        if i == 0 {
            let skip = digits.iter().take_while(|&&d| d == b'1').count();
            out.extend_from_slice(&digits[skip..]);
        } else {
            out.extend_from_slice(&digits);
        }
    }
}

/// Bytes of base58 `text`; an error names the first bad character and its position.
pub fn decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4 + 1);
    decode_into(text.as_bytes(), &mut out)?;
    Ok(out)
}

fn bad_char(text: &[u8], pos: usize) -> EngineError {
    // report the whole (possibly multi-byte) character at a char boundary
    let shown = std::str::from_utf8(text)
        .ok()
        .and_then(|s| {
            s.char_indices()
                .find(|&(i, c)| i <= pos && pos < i + c.len_utf8())
                .map(|(i, c)| (s[..i].chars().count(), c))
        })
        .map_or_else(
            || format!("byte 0x{:02x} at byte {pos}", text[pos]),
            |(n, c)| format!("{c:?} at position {n}"),
        );
    EngineError::Base58(format!("invalid base58 character {shown}"))
}

/// Append the bytes of base58 `text` to `out`.
pub fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let ones = text.iter().take_while(|&&c| c == b'1').count();
    let rest = &text[ones..];
    // 32-bit words, least significant first; each group of 5 digits is folded in with one
    // multiply-add pass (word * 58^5 + carry < 2^62)
    let max_words = rest.len() * 6 / 32 + 2; // a digit is 5.86 bits
    let mut stack = [0u64; 24];
    let mut heap = Vec::new();
    let words: &mut [u64] = if max_words <= stack.len() {
        &mut stack[..max_words]
    } else {
        heap.resize(max_words, 0);
        &mut heap
    };
    let mut used = 0usize;
    let head = rest.len() % 5;
    let mut group = |start: usize, len: usize| -> Result<()> {
        let mut value = 0u64;
        let mut mul = 1u64;
        for (k, &c) in rest[start..start + len].iter().enumerate() {
            let d = if c < 128 { DECODE[c as usize] } else { 255 };
            if d == 255 {
                return Err(bad_char(text, ones + start + k));
            }
            value = value * 58 + u64::from(d);
            mul *= 58;
        }
        let mut carry = value;
        for w in words[..used].iter_mut() {
            let x = *w * mul + carry;
            *w = x & 0xFFFF_FFFF;
            carry = x >> 32;
        }
        while carry > 0 {
            words[used] = carry & 0xFFFF_FFFF;
            carry >>= 32;
            used += 1;
        }
        Ok(())
    };
    if head > 0 {
        group(0, head)?;
    }
    let mut start = head;
    while start < rest.len() {
        group(start, 5)?;
        start += 5;
    }
    out.extend(std::iter::repeat_n(0u8, ones));
    let mut first = true;
    for &w in words[..used].iter().rev() {
        let bytes = (w as u32).to_be_bytes();
        if first {
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            out.extend_from_slice(&bytes[skip..]);
            first = false;
        } else {
            out.extend_from_slice(&bytes);
        }
    }
    Ok(())
}

/// A 32-byte address from base58 text: `Base58Error` when the text is not base58 or
/// does not decode to exactly 32 bytes.
pub fn decode_32(text: &str) -> Result<[u8; 32]> {
    if text.len() > 44 {
        return Err(EngineError::Base58(format!(
            "not a 32-byte address: {} characters (at most 44)",
            text.len()
        )));
    }
    let mut buf = Vec::with_capacity(36);
    decode_into(text.as_bytes(), &mut buf)?;
    <[u8; 32]>::try_from(buf.as_slice()).map_err(|_| {
        EngineError::Base58(format!(
            "not a 32-byte address: {text:?} decodes to {} bytes",
            buf.len()
        ))
    })
}

/// A 32-byte address from base58 text, evaluated when compiled: program ids are written
/// once, as the text everyone quotes, and used as bytes. Text that is not base58 of
/// exactly 32 bytes fails the build (a `const` evaluation error), never a run.
pub const fn key(text: &str) -> [u8; 32] {
    let t = text.as_bytes();
    let mut out = [0u8; 32];
    let mut ones = 0;
    while ones < t.len() && t[ones] == b'1' {
        ones += 1;
    }
    let mut i = 0;
    while i < t.len() {
        let c = t[i];
        assert!(c < 128 && DECODE[c as usize] != 255, "not base58");
        // out = out * 58 + digit, big-endian
        let mut carry = DECODE[c as usize] as u32;
        let mut j = 32;
        while j > 0 {
            j -= 1;
            let x = out[j] as u32 * 58 + carry;
            out[j] = x as u8;
            carry = x >> 8;
        }
        assert!(carry == 0, "more than 32 bytes");
        i += 1;
    }
    let mut zeros = 0;
    while zeros < 32 && out[zeros] == 0 {
        zeros += 1;
    }
    // each leading '1' is one leading zero byte: 32 bytes in all, no more, no fewer
    assert!(zeros == ones, "not a 32-byte address");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_keys_decode_as_the_runtime_decoder() {
        for text in [
            "11111111111111111111111111111111",
            "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc",
            "So11111111111111111111111111111111111111112",
            "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8",
            "11111111111111111111111111111113",
        ] {
            assert_eq!(Ok(key(text)), decode_32(text), "{text}");
        }
    }

    #[test]
    fn spec_vector_system_program() {
        assert_eq!(encode(&[0u8; 32]), "11111111111111111111111111111111");
        assert_eq!(decode_32("11111111111111111111111111111111"), Ok([0u8; 32]));
    }

    #[test]
    fn matches_the_bs58_crate_on_every_length_and_leading_zeros() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..160usize {
            for zeros in [0usize, 1, 2, 5] {
                let mut data: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                for b in data.iter_mut().take(zeros) {
                    *b = 0;
                }
                let want = bs58::encode(&data).into_string();
                assert_eq!(encode(&data), want, "len {len}");
                assert_eq!(decode(&want), Ok(data.clone()), "len {len}");
            }
        }
        for v in [[255u8; 32], [1u8; 32]] {
            assert_eq!(encode(&v), bs58::encode(&v).into_string());
        }
        assert_eq!(
            encode(&[255u8; 64]),
            bs58::encode(&[255u8; 64]).into_string()
        );
    }

    #[test]
    fn bad_characters_are_named() {
        for bad in ["0", "O", "I", "l", "abc+", "11é", " 1"] {
            let err = decode(bad).expect_err(bad);
            assert!(matches!(err, EngineError::Base58(_)), "{bad}");
        }
        let msg = decode("abcl").expect_err("l").to_string();
        assert!(msg.contains("'l'") && msg.contains("position 3"), "{msg}");
        let msg = decode("1é").expect_err("é").to_string();
        assert!(msg.contains("'é'") && msg.contains("position 1"), "{msg}");
        assert_eq!(decode(""), Ok(vec![]));
        assert!(decode_32("").is_err());
        assert!(decode_32("1111111111111111111111111111111").is_err()); // 31 bytes
    }
}

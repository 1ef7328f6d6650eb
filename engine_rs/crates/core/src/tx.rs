//! A v0 transaction rendered from its message template and signed, in one call: the
//! live fast path's last CPU step (`arbscope/execution/build.py`'s `MessageTemplate`
//! compiles a route's message once; each order patches the blockhash and each
//! instruction's data at fixed places, signs the message with the wallet's ed25519
//! key, and puts the transaction's bytes together: one signature, then the message).
//!
//! Twin: `engine_rs/python/tx.py` (solders' keypair signs there). The signature is
//! deterministic (RFC 8032), so both give the same bytes.

use ed25519_dalek::{Signer, SigningKey};

use crate::{b58, EngineError, Result};

/// A wallet's ed25519 signing key (the secret half of a Solana keypair) and its public
/// key. The secret is never shown (`Debug` names the public key only) and is wiped
/// when dropped (dalek's `zeroize`).
pub struct TxSigner {
    key: SigningKey,
}

impl std::fmt::Debug for TxSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TxSigner({})", self.pubkey_b58())
    }
}

/// A signed transaction: its bytes (as sent) and its signature (its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub raw: Vec<u8>,
    pub signature: [u8; 64],
}

impl TxSigner {
    /// The signer of a keypair's 64 bytes (secret ‖ public, the Solana CLI's file) or
    /// of its 32-byte secret alone; with 64 bytes the public half must be the secret's.
    pub fn new(keypair: &[u8]) -> Result<Self> {
        let secret: [u8; 32] = keypair
            .get(..32)
            .and_then(|s| s.try_into().ok())
            .filter(|_| keypair.len() == 32 || keypair.len() == 64)
            .ok_or_else(|| {
                EngineError::InvalidInput(format!(
                    "a keypair is 64 bytes (or its secret 32), got {}",
                    keypair.len()
                ))
            })?;
        let key = SigningKey::from_bytes(&secret);
        if keypair.len() == 64 && key.verifying_key().as_bytes()[..] != keypair[32..] {
            return Err(EngineError::InvalidInput(
                "the keypair's public half is not its secret's".into(),
            ));
        }
        Ok(Self { key })
    }

    /// The public key's 32 bytes.
    pub fn pubkey(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The public key in base58 (the wallet's address).
    pub fn pubkey_b58(&self) -> String {
        b58::encode(&self.pubkey())
    }

    /// The ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The transaction of `message` (a versioned message's bytes, one signer: this key)
    /// with its blockhash replaced at `blockhash_at` and each `(at, data)` of `patches`
    /// written at `at`, signed: `[1] ‖ signature ‖ message`. InvalidInput when a patch
    /// or the blockhash falls outside the message, or the message does not name exactly
    /// one signer (its header's first byte, after the 0x80 prefix).
    pub fn sign_v0(
        &self,
        message: &[u8],
        blockhash_at: usize,
        blockhash: &[u8; 32],
        patches: &[(usize, &[u8])],
    ) -> Result<Signed> {
        if message.len() < 2 || message[0] != 0x80 || message[1] != 1 {
            return Err(EngineError::InvalidInput(
                "not a v0 message signed by one key (0x80, then one signature)".into(),
            ));
        }
        let mut raw = Vec::with_capacity(1 + 64 + message.len());
        raw.push(1u8);
        raw.extend_from_slice(&[0u8; 64]);
        raw.extend_from_slice(message);
        let body = &mut raw[65..];
        put(body, blockhash_at, blockhash, "the blockhash")?;
        for (at, data) in patches {
            put(body, *at, data, "an instruction's data")?;
        }
        let signature = self.sign(&raw[65..]);
        raw[1..65].copy_from_slice(&signature);
        Ok(Signed { raw, signature })
    }
}

fn put(buf: &mut [u8], at: usize, data: &[u8], what: &str) -> Result<()> {
    let end = at
        .checked_add(data.len())
        .filter(|&e| e <= buf.len())
        .ok_or_else(|| {
            EngineError::InvalidInput(format!(
                "{what} ({} bytes at {at}) falls outside the {}-byte message",
                data.len(),
                buf.len()
            ))
        })?;
    buf[at..end].copy_from_slice(data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8032, 7.1, TEST 1 (the empty message) and TEST 2 (one byte)
    const SECRET1: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC1: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const SIG1: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
                        5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    const SECRET2: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
    const SIG2: &str = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                        085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
            .collect()
    }

    #[test]
    fn rfc8032_vectors() {
        let s = TxSigner::new(&hex(SECRET1)).expect("secret");
        assert_eq!(s.pubkey().to_vec(), hex(PUBLIC1));
        assert_eq!(s.sign(b"").to_vec(), hex(SIG1));
        let s = TxSigner::new(&hex(SECRET2)).expect("secret");
        assert_eq!(s.sign(&[0x72]).to_vec(), hex(SIG2));
    }

    #[test]
    fn keypair_halves_must_match() {
        let mut kp = hex(SECRET1);
        kp.extend(hex(PUBLIC1));
        assert!(TxSigner::new(&kp).is_ok());
        kp[40] ^= 1;
        assert!(TxSigner::new(&kp).is_err());
        assert!(TxSigner::new(&kp[..31]).is_err());
    }

    #[test]
    fn patches_and_signs() {
        let s = TxSigner::new(&hex(SECRET1)).expect("secret");
        let mut msg = vec![0x80u8, 1, 0, 0];
        msg.extend([0u8; 40]);
        let bh = [7u8; 32];
        let got = s
            .sign_v0(&msg, 4, &bh, &[(36, &[1, 2, 3])])
            .expect("signed");
        let mut want = msg.clone();
        want[4..36].copy_from_slice(&bh);
        want[36..39].copy_from_slice(&[1, 2, 3]);
        assert_eq!(got.raw[0], 1);
        assert_eq!(&got.raw[65..], &want[..]);
        assert_eq!(got.signature, s.sign(&want));
        assert_eq!(&got.raw[1..65], &got.signature[..]);
        assert!(s.sign_v0(&msg, 20, &bh, &[]).is_err());
        assert!(s.sign_v0(&msg, 4, &bh, &[(43, &[1, 2])]).is_err());
        assert!(s.sign_v0(&msg, 4, &bh, &[(usize::MAX, &[1])]).is_err());
        assert!(s.sign_v0(&msg[..1], 0, &bh, &[]).is_err());
    }
}

//! Bindings for `arbscope_core::tx`: `TxSigner`, a wallet's ed25519 key that renders a
//! v0 transaction from its message template and signs it in one call (the live fast
//! path's build-and-sign step). The secret never crosses back into Python.

use arbscope_core::b58;
use arbscope_core::tx::TxSigner as CoreSigner;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyString};

use crate::errors::guard;
use crate::pda::id32;

/// A wallet's ed25519 signing key: `keypair` is the Solana CLI file's 64 bytes (secret
/// and public, which must match) or the 32-byte secret alone. The secret is never shown;
/// `pubkey` is the wallet's address (base58).
#[pyclass(frozen, module = "engine_rs._engine")]
pub struct TxSigner {
    inner: CoreSigner,
    pubkey: String,
}

#[pymethods]
impl TxSigner {
    #[new]
    fn new(py: Python<'_>, keypair: &[u8]) -> PyResult<Self> {
        let inner = guard(py, || CoreSigner::new(keypair))?;
        let pubkey = inner.pubkey_b58();
        Ok(Self { inner, pubkey })
    }

    #[getter]
    fn pubkey(&self) -> &str {
        &self.pubkey
    }

    /// The ed25519 signature (64 bytes, RFC 8032: deterministic) of `message`.
    fn sign<'py>(&self, py: Python<'py>, message: &[u8]) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.sign(message))
    }

    /// One transaction from a v0 message template, in one call: `message` with the 32
    /// bytes at `blockhash_at` replaced by `blockhash` (base58 or bytes) and each
    /// `(at, data)` of `patches` written at `at`, signed: (the transaction's bytes, its
    /// signature in base58). InvalidInputError when the message has another signer count
    /// or a patch falls outside it.
    fn sign_v0<'py>(
        &self,
        py: Python<'py>,
        message: &[u8],
        blockhash_at: usize,
        blockhash: &Bound<'py, PyAny>,
        patches: Vec<(usize, PyBackedBytes)>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyString>)> {
        let bh = id32(blockhash, "blockhash")?;
        let refs: Vec<(usize, &[u8])> = patches.iter().map(|(at, d)| (*at, d.as_ref())).collect();
        let signed = guard(py, || self.inner.sign_v0(message, blockhash_at, &bh, &refs))?;
        Ok((
            PyBytes::new(py, &signed.raw),
            PyString::new(py, &b58::encode(&signed.signature)),
        ))
    }

    fn __repr__(&self) -> String {
        format!("TxSigner({})", self.pubkey)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TxSigner>()?;
    Ok(())
}

//! Kerberos encryption types: the RFC 3961 simplified profile with the AES enctypes of
//! RFC 3962 (aes*-cts-hmac-sha1-96) and RFC 8009 (aes128-cts-hmac-sha256-128,
//! aes256-cts-hmac-sha384-192), built on the RustCrypto `aes`, `hmac`, `sha1`, `sha2` and
//! `pbkdf2` crates.
//!
//! The public surface is [`Enctype`], [`Key`] and [`CryptoError`]; n-fold, DR/DK, the
//! RFC 8009 KDF and AES-CBC-CTS stay internal.

mod aes_sha1;
mod aes_sha2;
mod cts;
mod enctype;
mod key;
mod mac;
mod nfold;

#[cfg(test)]
mod tests;

pub use self::enctype::Enctype;
pub use self::key::Key;

/// Length of the random confounder prepended to every plaintext: one AES block for all four
/// enctypes (RFC 3962 §6, RFC 8009 §5).
pub(crate) const CONFOUNDER_LEN: usize = 16;

/// Errors of the enctype layer. None of them carries key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key bytes do not have the length the enctype requires.
    #[error("{enctype} needs a {expected}-byte key, got {actual} bytes")]
    BadKeyLength {
        enctype: Enctype,
        expected: usize,
        actual: usize,
    },
    /// The ciphertext cannot even hold the confounder and the integrity checksum.
    #[error("ciphertext of {actual} bytes is shorter than the minimum of {minimum}")]
    CiphertextTooShort { actual: usize, minimum: usize },
    /// HMAC verification failed: wrong key, wrong key usage or tampered data.
    #[error("integrity check failed")]
    IntegrityCheckFailed,
    /// The operating system random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// PBKDF2 iteration count 0 stands for 2^32 iterations (RFC 3962 §4); refused.
    #[error("string-to-key iteration count must be between 1 and 2^32-1")]
    BadIterationCount,
}

/// What a key derived for one key usage is for; the value is the octet appended to the
/// big-endian usage number (RFC 3961 §5.3, RFC 8009 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Kc, keyed checksums.
    Checksum = 0x99,
    /// Ke, the cipher key.
    Encryption = 0xaa,
    /// Ki, the integrity tag of an encryption.
    Integrity = 0x55,
}

/// The derivation constant `usage | purpose` (5 bytes).
pub(crate) fn usage_constant(usage: u32, purpose: Purpose) -> [u8; 5] {
    let [a, b, c, d] = usage.to_be_bytes();
    [a, b, c, d, purpose as u8]
}

//! PKINIT key agreement and reply-key derivation: finite-field Diffie-Hellman over the MODP
//! groups (RFC 4556 §3.2.3.1 with RFC 2409 §6.2 / RFC 3526), ECDH on the NIST curves
//! (RFC 5349), RFC 4556 octetstring2key and the RFC 8636 §6 KDFs.
//!
//! The caller picks the policy (which groups are acceptable, which KDF to use); this module
//! only does the arithmetic and the derivations, and refuses peer values that are unsafe.

mod dh;
mod ecdh;
mod groups;
mod kdf;
mod key;
#[cfg(feature = "openssl")]
mod openssl_modexp;
mod other_info;
mod reuse;

#[cfg(test)]
mod tests;

pub use self::dh::{DhPrivateKey, agree, generate, validate_public};
pub use self::ecdh::{EcCurve, EcPrivateKey};
pub use self::groups::ModpGroup;
pub use self::kdf::{PkinitKdf, octetstring2key, rfc8636_kdf};
pub use self::key::{DhGroup, DhKey, generate_key};
pub use self::reuse::{ReusableKey, ReusedKeys};

/// Why a key agreement or a key derivation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    /// The DH domain parameters are not one of the MODP groups of [`ModpGroup::all`]
    /// (for callers turning a `None` from [`ModpGroup::from_params`] into an error).
    #[error("DH domain parameters are not a supported MODP group")]
    UnknownGroup,
    /// The peer's public value is not in [2, p - 2] (or longer than p).
    #[error("peer DH public value is out of range")]
    InvalidPublicValue,
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The bignum library failed (allocation; logged where it happened).
    #[error("the modular exponentiation failed")]
    Arithmetic,
    /// A KDF input could not be DER-encoded (e.g. a realm outside the GeneralString alphabet).
    #[error("cannot DER-encode the KDF input: {what}")]
    Encoding {
        /// Which input could not be encoded.
        what: &'static str,
    },
    /// More key material was asked for than the KDF's 32-bit counter allows.
    #[error("requested key length {0} is longer than the KDF can produce")]
    KeyLengthTooLong(usize),
}

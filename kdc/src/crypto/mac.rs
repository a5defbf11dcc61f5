//! HMAC helpers shared by both profiles (RFC 2104 via the `hmac` crate): truncated MAC
//! computation and constant-time verification.

use hmac::Mac;
use hmac::digest::{Key as MacKey, KeyInit};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::CryptoError;

/// HMAC of the concatenation of `parts` under `key`, truncated to `len` bytes.
///
/// `key` must not be longer than the hash block size (64 bytes for SHA-1/SHA-256, 128 for
/// SHA-384); all Kerberos HMAC keys are 16 to 32 bytes.
pub(super) fn hmac_truncated<M>(key: &[u8], parts: &[&[u8]], len: usize) -> Zeroizing<Vec<u8>>
where
    M: Mac + KeyInit,
{
    let mut mac = keyed::<M>(key);
    for part in parts {
        Mac::update(&mut mac, part);
    }
    let mut full = mac.finalize().into_bytes();
    let out = Zeroizing::new(full.iter().take(len).copied().collect());
    full.as_mut_slice().zeroize();
    out
}

/// Compares a received MAC with the expected one in constant time.
pub(super) fn verify(expected: &[u8], received: &[u8]) -> Result<(), CryptoError> {
    if bool::from(expected.ct_eq(received)) {
        Ok(())
    } else {
        Err(CryptoError::IntegrityCheckFailed)
    }
}

/// Keys the MAC with `key` zero-padded to the block size. HMAC pads short keys with zeros
/// anyway (RFC 2104 §2), so this is the same MAC, and the infallible `KeyInit::new` spares
/// an error path that `new_from_slice` only has for the type system.
fn keyed<M: KeyInit>(key: &[u8]) -> M {
    let mut padded = MacKey::<M>::default();
    debug_assert!(
        key.len() <= padded.len(),
        "HMAC key longer than the block size"
    );
    padded.iter_mut().zip(key).for_each(|(d, s)| *d = *s);
    let mac = <M as KeyInit>::new(&padded);
    padded.as_mut_slice().zeroize();
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Hmac;
    use sha2::Sha256;

    /// RFC 4231 test case 2: a 4-byte key, so the zero padding path is exercised.
    #[test]
    fn rfc4231_case2_hmac_sha256() {
        let tag =
            hmac_truncated::<Hmac<Sha256>>(b"Jefe", &[b"what do ya want ", b"for nothing?"], 32);
        assert_eq!(
            hex::encode(tag.as_slice()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verify_rejects_any_difference() {
        assert_eq!(verify(&[1, 2, 3], &[1, 2, 3]), Ok(()));
        assert_eq!(
            verify(&[1, 2, 3], &[1, 2, 4]),
            Err(CryptoError::IntegrityCheckFailed)
        );
        assert_eq!(
            verify(&[1, 2, 3], &[1, 2]),
            Err(CryptoError::IntegrityCheckFailed)
        );
        assert_eq!(
            verify(&[1, 2, 3], &[]),
            Err(CryptoError::IntegrityCheckFailed)
        );
    }
}

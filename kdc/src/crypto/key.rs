//! The protocol key of an enctype and the RFC 3961 §3/§4 operations on it: random-to-key,
//! string-to-key, encryption and decryption under a key usage, keyed checksums.

use std::fmt;

use super::cts::AesKey;
use super::enctype::Profile;
use super::{CONFOUNDER_LEN, CryptoError, Enctype, aes_sha1, aes_sha2, mac};

/// A Kerberos protocol (base) key. The bytes are wiped on drop and never printed.
#[derive(Clone)]
pub struct Key {
    enctype: Enctype,
    secret: AesKey,
}

impl Key {
    /// Wraps raw key bytes, e.g. from the key database or a decrypted `EncryptionKey`.
    pub fn new(enctype: Enctype, bytes: &[u8]) -> Result<Key, CryptoError> {
        let secret = AesKey::from_slice(enctype, bytes).ok_or(CryptoError::BadKeyLength {
            enctype,
            expected: enctype.key_len(),
            actual: bytes.len(),
        })?;
        Ok(Key { enctype, secret })
    }

    /// A fresh key from the system CSPRNG; random-to-key is the identity for AES
    /// (RFC 3962 §6, RFC 8009 §2).
    pub fn random(enctype: Enctype) -> Result<Key, CryptoError> {
        let mut secret = AesKey::zeroed(enctype);
        aws_lc_rs::rand::fill(secret.as_mut_bytes()).map_err(|_| CryptoError::Random)?;
        Ok(Key { enctype, secret })
    }

    /// string-to-key: RFC 3962 §4 (PBKDF2-HMAC-SHA1, then DK "kerberos") or RFC 8009 §4
    /// (PBKDF2-HMAC-SHA256/384 over "enctype-name" | 0x00 | salt, then the KDF with
    /// "kerberos"). `iterations` comes from s2kparams, see
    /// [`Enctype::default_iterations`]; 0 (meaning 2^32) is refused.
    pub fn from_string(
        enctype: Enctype,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<Key, CryptoError> {
        if iterations == 0 {
            return Err(CryptoError::BadIterationCount);
        }
        let secret = match enctype.profile() {
            Profile::Rfc3962 => aes_sha1::string_to_key(enctype, password, salt, iterations),
            Profile::Rfc8009 => aes_sha2::string_to_key(enctype, password, salt, iterations),
        };
        Ok(Key { enctype, secret })
    }

    pub fn enctype(&self) -> Enctype {
        self.enctype
    }

    /// The raw key bytes, for `EncryptionKey.keyvalue` and the key database.
    pub fn as_bytes(&self) -> &[u8] {
        self.secret.as_bytes()
    }

    /// Encrypts under `usage` (RFC 4120 §7.5.1 key usage numbers) with a fresh random
    /// confounder. The result is the `EncryptedData.cipher` octets.
    pub fn encrypt(&self, usage: u32, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut confounder = [0u8; CONFOUNDER_LEN];
        aws_lc_rs::rand::fill(&mut confounder).map_err(|_| CryptoError::Random)?;
        Ok(self.encrypt_with_confounder(usage, &confounder, plaintext))
    }

    /// Deterministic encryption for known-answer tests; protocol code uses [`Key::encrypt`].
    pub(crate) fn encrypt_with_confounder(
        &self,
        usage: u32,
        confounder: &[u8; CONFOUNDER_LEN],
        plaintext: &[u8],
    ) -> Vec<u8> {
        match self.enctype.profile() {
            Profile::Rfc3962 => {
                aes_sha1::encrypt(self.enctype, &self.secret, usage, confounder, plaintext)
            }
            Profile::Rfc8009 => {
                aes_sha2::encrypt(self.enctype, &self.secret, usage, confounder, plaintext)
            }
        }
    }

    /// Decrypts `EncryptedData.cipher` octets under `usage` and checks their integrity
    /// (constant-time compare). Returns the plaintext without the confounder.
    pub fn decrypt(&self, usage: u32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self.enctype.profile() {
            Profile::Rfc3962 => aes_sha1::decrypt(self.enctype, &self.secret, usage, ciphertext),
            Profile::Rfc8009 => aes_sha2::decrypt(self.enctype, &self.secret, usage, ciphertext),
        }
    }

    /// The keyed checksum of this enctype ([`Enctype::checksum_type`]) over `data`.
    pub fn checksum(&self, usage: u32, data: &[u8]) -> Vec<u8> {
        match self.enctype.profile() {
            Profile::Rfc3962 => aes_sha1::checksum(self.enctype, &self.secret, usage, data),
            Profile::Rfc8009 => aes_sha2::checksum(self.enctype, &self.secret, usage, data),
        }
    }

    /// Recomputes the keyed checksum and compares in constant time; a checksum of the
    /// wrong length fails like a wrong one.
    pub fn verify_checksum(
        &self,
        usage: u32,
        data: &[u8],
        cksum: &[u8],
    ) -> Result<(), CryptoError> {
        mac::verify(&self.checksum(usage, data), cksum)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("enctype", &self.enctype)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_the_length() {
        for enctype in Enctype::ALL {
            assert!(Key::new(enctype, &vec![7; enctype.key_len()]).is_ok());
            for bad in [0, 15, 17, 24, 31, 33] {
                assert_eq!(
                    Key::new(enctype, &vec![7; bad]).unwrap_err(),
                    CryptoError::BadKeyLength {
                        enctype,
                        expected: enctype.key_len(),
                        actual: bad
                    }
                );
            }
        }
    }

    #[test]
    fn random_keys_have_the_right_length_and_differ() {
        for enctype in Enctype::ALL {
            let a = Key::random(enctype).unwrap();
            let b = Key::random(enctype).unwrap();
            assert_eq!(a.enctype(), enctype);
            assert_eq!(a.as_bytes().len(), enctype.key_len());
            assert_ne!(a.as_bytes(), b.as_bytes());
        }
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let key = Key::new(Enctype::Aes128CtsHmacSha196, &[0xab; 16]).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("Aes128CtsHmacSha196"));
        assert!(!shown.to_ascii_lowercase().contains("ab"), "{shown}");
        assert!(!shown.contains("171"), "{shown}");
    }

    #[test]
    fn zero_iterations_are_refused() {
        for enctype in Enctype::ALL {
            assert_eq!(
                Key::from_string(enctype, b"password", b"salt", 0).unwrap_err(),
                CryptoError::BadIterationCount
            );
        }
    }

    #[test]
    fn round_trip_every_enctype_and_length() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype).unwrap();
            for len in [0, 1, 15, 16, 17, 31, 32, 33, 100, 1000] {
                let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                let ciphertext = key.encrypt(3, &plaintext).unwrap();
                assert_eq!(ciphertext.len(), enctype.min_ciphertext_len() + len);
                assert_eq!(key.decrypt(3, &ciphertext).unwrap(), plaintext);
            }
        }
    }

    #[test]
    fn fresh_confounder_every_time() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype).unwrap();
            assert_ne!(
                key.encrypt(1, b"same").unwrap(),
                key.encrypt(1, b"same").unwrap()
            );
        }
    }

    #[test]
    fn every_single_bit_flip_fails_the_integrity_check() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype).unwrap();
            let ciphertext = key.encrypt(11, b"an authenticator of some length").unwrap();
            for byte in 0..ciphertext.len() {
                for bit in 0..8 {
                    let mut tampered = ciphertext.clone();
                    tampered[byte] ^= 1 << bit;
                    assert_eq!(
                        key.decrypt(11, &tampered).unwrap_err(),
                        CryptoError::IntegrityCheckFailed,
                        "{enctype} byte {byte} bit {bit}"
                    );
                }
            }
        }
    }

    #[test]
    fn wrong_usage_or_key_fails_the_integrity_check() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype).unwrap();
            let other = Key::random(enctype).unwrap();
            let ciphertext = key.encrypt(2, b"ticket").unwrap();
            assert_eq!(
                key.decrypt(3, &ciphertext).unwrap_err(),
                CryptoError::IntegrityCheckFailed
            );
            assert_eq!(
                other.decrypt(2, &ciphertext).unwrap_err(),
                CryptoError::IntegrityCheckFailed
            );
        }
    }

    #[test]
    fn truncated_ciphertexts_are_errors_never_panics() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype).unwrap();
            let ciphertext = key.encrypt(7, b"0123456789abcdef0123").unwrap();
            let minimum = enctype.min_ciphertext_len();
            for len in 0..ciphertext.len() {
                let err = key.decrypt(7, &ciphertext[..len]).unwrap_err();
                if len < minimum {
                    assert_eq!(
                        err,
                        CryptoError::CiphertextTooShort {
                            actual: len,
                            minimum
                        }
                    );
                } else {
                    assert_eq!(
                        err,
                        CryptoError::IntegrityCheckFailed,
                        "{enctype} len {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn checksums_verify_and_reject_changes() {
        for enctype in Enctype::ALL {
            let key = Key::random(enctype).unwrap();
            let cksum = key.checksum(6, b"KDC-REQ-BODY");
            assert_eq!(cksum.len(), enctype.checksum_len());
            assert_eq!(key.verify_checksum(6, b"KDC-REQ-BODY", &cksum), Ok(()));
            let failed = Err(CryptoError::IntegrityCheckFailed);
            assert_eq!(key.verify_checksum(7, b"KDC-REQ-BODY", &cksum), failed);
            assert_eq!(key.verify_checksum(6, b"KDC-REQ-BODx", &cksum), failed);
            assert_eq!(key.verify_checksum(6, b"KDC-REQ-BODY", &cksum[1..]), failed);
            assert_eq!(key.verify_checksum(6, b"KDC-REQ-BODY", &[]), failed);
            let mut flipped = cksum.clone();
            flipped[0] ^= 0x80;
            assert_eq!(key.verify_checksum(6, b"KDC-REQ-BODY", &flipped), failed);
        }
    }
}

//! Normalised RSA public keys, the form in which the KDC compares a client certificate's key
//! with a registered one (MS-ADTS 2.2.20.5 KeyMaterial; RFC 8017 A.1.1 RSAPublicKey;
//! RFC 5280 4.1.2.7 SubjectPublicKeyInfo; the Windows BCRYPT_RSAKEY_BLOB layout).

use std::fmt;

use rsa::pkcs1::{
    self, UintRef,
    der::{
        Decode, Encode,
        asn1::{AnyRef, BitStringRef},
    },
};
use rsa::pkcs8::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

/// "RSA1" read as a little-endian u32: BCRYPT_RSAPUBLIC_MAGIC.
const BCRYPT_RSAPUBLIC_MAGIC: u32 = 0x3141_5352;
/// Magic, BitLength, cbPublicExp, cbModulus, cbPrime1, cbPrime2: six u32le.
const BCRYPT_HEADER_LEN: usize = 24;
/// 16384 bits. Far above any key a Windows Hello client makes, and small enough that every
/// encoding of the key fits an msDS-KeyCredentialLink entry (u16 length).
pub const MAX_MODULUS_BYTES: usize = 2048;

/// Why bytes are not an acceptable RSA public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RsaKeyError {
    #[error("RSA modulus is zero or even")]
    BadModulus,
    #[error("RSA modulus of {0} bytes exceeds the {MAX_MODULUS_BYTES}-byte limit")]
    ModulusTooLarge(usize),
    #[error("RSA public exponent is not an odd number between 3 and the modulus size")]
    BadExponent,
    #[error("DER: {0}")]
    Der(String),
    #[error("SubjectPublicKeyInfo algorithm {0} is not rsaEncryption")]
    NotRsa(String),
    #[error("rsaEncryption parameters must be NULL or absent")]
    BadParameters,
    #[error("BCRYPT RSA1 blob: {0}")]
    Bcrypt(&'static str),
}

impl From<pkcs1::der::Error> for RsaKeyError {
    fn from(e: pkcs1::der::Error) -> Self {
        RsaKeyError::Der(e.to_string())
    }
}

/// An RSA public key as (n, e), both big-endian without leading zeros. Two keys are equal
/// exactly when their (n, e) are, whatever encoding each came from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RsaPublicKey {
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first_nonzero = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first_nonzero..).unwrap_or_default()
}

fn u32_le_at(bytes: &[u8], at: usize) -> Option<u32> {
    let field: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(field))
}

impl RsaPublicKey {
    /// Builds a key from big-endian modulus and exponent; leading zero bytes are ignored.
    pub fn from_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, RsaKeyError> {
        let modulus = strip_leading_zeros(modulus);
        let exponent = strip_leading_zeros(exponent);
        if modulus.len() > MAX_MODULUS_BYTES {
            return Err(RsaKeyError::ModulusTooLarge(modulus.len()));
        }
        if modulus.last().is_none_or(|low| low & 1 == 0) {
            return Err(RsaKeyError::BadModulus);
        }
        let exponent_is_odd = exponent.last().is_some_and(|low| low & 1 == 1);
        if !exponent_is_odd || exponent == [1] || exponent.len() > modulus.len() {
            return Err(RsaKeyError::BadExponent);
        }
        Ok(RsaPublicKey {
            modulus: modulus.to_vec(),
            exponent: exponent.to_vec(),
        })
    }

    /// n, big-endian, no leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    /// e, big-endian, no leading zeros.
    pub fn exponent(&self) -> &[u8] {
        &self.exponent
    }

    /// The key size: the bit length of n.
    pub fn modulus_bits(&self) -> usize {
        let leading = self
            .modulus
            .first()
            .map_or(8, |b| b.leading_zeros() as usize);
        self.modulus.len() * 8 - leading
    }

    /// DER PKCS#1 RSAPublicKey (RFC 8017 A.1.1), as Windows stores computer keys.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, RsaKeyError> {
        let key = pkcs1::RsaPublicKeyRef::from_der(der)?;
        Self::from_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }

    /// DER SubjectPublicKeyInfo with algorithm rsaEncryption (RFC 3279 2.3.1), as found in
    /// certificates and in Samba-written key credentials.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, RsaKeyError> {
        Self::from_spki(&SubjectPublicKeyInfoRef::from_der(der)?)
    }

    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<Self, RsaKeyError> {
        if spki.algorithm.oid != pkcs1::ALGORITHM_OID {
            return Err(RsaKeyError::NotRsa(spki.algorithm.oid.to_string()));
        }
        // RFC 3279 requires NULL; some encoders omit it, which is harmless.
        if spki.algorithm.parameters.is_some_and(|p| !p.is_null()) {
            return Err(RsaKeyError::BadParameters);
        }
        let key_bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or(RsaKeyError::Der("subjectPublicKey has unused bits".into()))?;
        Self::from_pkcs1_der(key_bytes)
    }

    /// BCRYPT_RSAPUBLIC_BLOB: magic "RSA1", BitLength, cbPublicExp, cbModulus, cbPrime1,
    /// cbPrime2 (u32le each), then e and n big-endian. A public blob carries no primes.
    pub fn from_bcrypt_rsa1(blob: &[u8]) -> Result<Self, RsaKeyError> {
        let header = blob
            .get(..BCRYPT_HEADER_LEN)
            .ok_or(RsaKeyError::Bcrypt("shorter than its 24-byte header"))?;
        let field = |index: usize| u32_le_at(header, index * 4).unwrap_or_default();
        if field(0) != BCRYPT_RSAPUBLIC_MAGIC {
            return Err(RsaKeyError::Bcrypt("magic is not RSA1"));
        }
        if field(4) != 0 || field(5) != 0 {
            return Err(RsaKeyError::Bcrypt(
                "prime lengths set in a public key blob",
            ));
        }
        let body = blob.get(BCRYPT_HEADER_LEN..).unwrap_or_default();
        let exponent_len = field(2) as usize;
        let modulus_len = field(3) as usize;
        let (exponent, rest) = body
            .split_at_checked(exponent_len)
            .ok_or(RsaKeyError::Bcrypt("exponent runs past the end"))?;
        let (modulus, rest) = rest
            .split_at_checked(modulus_len)
            .ok_or(RsaKeyError::Bcrypt("modulus runs past the end"))?;
        if !rest.is_empty() {
            return Err(RsaKeyError::Bcrypt("bytes after the modulus"));
        }
        Self::from_components(modulus, exponent)
    }

    /// BCRYPT_RSAPUBLIC_BLOB with BitLength = the modulus bit length, the form Windows writes
    /// for Windows Hello for Business user keys.
    pub fn to_bcrypt_rsa1(&self) -> Vec<u8> {
        // Both lengths are bounded by MAX_MODULUS_BYTES, so they fit a u32.
        let as_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let mut blob =
            Vec::with_capacity(BCRYPT_HEADER_LEN + self.exponent.len() + self.modulus.len());
        for field in [
            BCRYPT_RSAPUBLIC_MAGIC,
            as_u32(self.modulus_bits()),
            as_u32(self.exponent.len()),
            as_u32(self.modulus.len()),
            0,
            0,
        ] {
            blob.extend_from_slice(&field.to_le_bytes());
        }
        blob.extend_from_slice(&self.exponent);
        blob.extend_from_slice(&self.modulus);
        blob
    }

    /// DER PKCS#1 RSAPublicKey.
    pub fn to_pkcs1_der(&self) -> Result<Vec<u8>, RsaKeyError> {
        let key = pkcs1::RsaPublicKeyRef {
            modulus: UintRef::new(&self.modulus)?,
            public_exponent: UintRef::new(&self.exponent)?,
        };
        Ok(key.to_der()?)
    }

    /// DER SubjectPublicKeyInfo, rsaEncryption with NULL parameters.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, RsaKeyError> {
        let pkcs1_der = self.to_pkcs1_der()?;
        let spki = SubjectPublicKeyInfoRef {
            algorithm: AlgorithmIdentifierRef {
                oid: pkcs1::ALGORITHM_OID,
                parameters: Some(AnyRef::NULL),
            },
            subject_public_key: BitStringRef::from_bytes(&pkcs1_der)?,
        };
        Ok(spki.to_der()?)
    }

    /// Whether n has the structure of keys from the Infineon library broken by ROCA
    /// (CVE-2017-15361, Microsoft ADV170012): for every small prime p, n mod p lies in the
    /// subgroup generated by 65537. Such keys came from vulnerable TPMs and must not be trusted.
    pub fn has_roca_fingerprint(&self) -> bool {
        const PRIMES: [u32; 38] = [
            3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
            89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
        ];
        PRIMES.iter().all(|&p| {
            let residue = self
                .modulus
                .iter()
                .fold(0u32, |acc, &byte| (acc * 256 + u32::from(byte)) % p);
            let generator = 65537 % p;
            let mut power = 1u32;
            // The subgroup generated by 65537 mod p has at most p - 1 elements.
            for _ in 0..p {
                if power == residue {
                    return true;
                }
                power = power * generator % p;
            }
            false
        })
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self
            .modulus
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.modulus_bits())
            .field("exponent", &hex::encode(&self.exponent))
            .field("modulus_head", &head)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RsaPublicKey {
        // A 2048-bit modulus is not needed to exercise the encodings; any odd n will do.
        let mut n = vec![0xC5; 256];
        n[255] = 0x01;
        RsaPublicKey::from_components(&n, &[0x01, 0x00, 0x01]).unwrap()
    }

    #[test]
    fn encodings_round_trip_to_the_same_key() {
        let key = sample();
        assert_eq!(
            RsaPublicKey::from_spki_der(&key.to_spki_der().unwrap()).unwrap(),
            key
        );
        assert_eq!(
            RsaPublicKey::from_pkcs1_der(&key.to_pkcs1_der().unwrap()).unwrap(),
            key
        );
        assert_eq!(
            RsaPublicKey::from_bcrypt_rsa1(&key.to_bcrypt_rsa1()).unwrap(),
            key
        );
        assert_eq!(key.modulus_bits(), 2048);
    }

    #[test]
    fn leading_zeros_do_not_change_identity() {
        let key = sample();
        let mut padded = vec![0, 0];
        padded.extend_from_slice(key.modulus());
        assert_eq!(
            RsaPublicKey::from_components(&padded, &[0, 1, 0, 1]).unwrap(),
            key
        );
    }

    #[test]
    fn rejects_degenerate_components() {
        assert_eq!(
            RsaPublicKey::from_components(&[0, 0], &[3]),
            Err(RsaKeyError::BadModulus)
        );
        assert_eq!(
            RsaPublicKey::from_components(&[0x0F, 0x02], &[3]),
            Err(RsaKeyError::BadModulus)
        );
        assert_eq!(
            RsaPublicKey::from_components(&[0x0F, 0x01], &[1]),
            Err(RsaKeyError::BadExponent)
        );
        assert_eq!(
            RsaPublicKey::from_components(&[0x0F, 0x01], &[4]),
            Err(RsaKeyError::BadExponent)
        );
        let huge = vec![0xFF; MAX_MODULUS_BYTES + 1];
        assert_eq!(
            RsaPublicKey::from_components(&huge, &[3]),
            Err(RsaKeyError::ModulusTooLarge(MAX_MODULUS_BYTES + 1))
        );
    }

    #[test]
    fn bcrypt_blob_with_primes_or_trailing_bytes_is_rejected() {
        let blob = sample().to_bcrypt_rsa1();
        let mut with_trailer = blob.clone();
        with_trailer.push(0);
        assert!(RsaPublicKey::from_bcrypt_rsa1(&with_trailer).is_err());
        let mut with_primes = blob.clone();
        with_primes[16] = 1;
        assert!(RsaPublicKey::from_bcrypt_rsa1(&with_primes).is_err());
        for cut in 0..blob.len() {
            assert!(RsaPublicKey::from_bcrypt_rsa1(&blob[..cut]).is_err());
        }
    }

    #[test]
    fn spki_for_another_algorithm_is_not_rsa() {
        // SPKI of a P-256 key (RFC 5480 id-ecPublicKey, prime256v1); the point itself is
        // irrelevant to the algorithm check.
        let mut ec = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        ec.extend_from_slice(&[0x04; 65]);
        assert!(matches!(
            RsaPublicKey::from_spki_der(&ec),
            Err(RsaKeyError::NotRsa(_))
        ));
    }
}

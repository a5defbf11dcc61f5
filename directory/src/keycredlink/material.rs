//! KeyMaterial (entry 0x03 of a KEYCREDENTIALLINK_BLOB, MS-ADTS 2.2.20.6): recognising the
//! encodings found in real directories and extracting the RSA public key where there is one.

use rsa::pkcs1::der::Decode;
use rsa::pkcs8::spki::SubjectPublicKeyInfoRef;

use super::rsa_key::RsaPublicKey;

/// Which encoding an RSA key came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaKeyFormat {
    /// BCRYPT_RSAPUBLIC_BLOB ("RSA1"): Windows Hello for Business user keys.
    BcryptRsa1,
    /// DER PKCS#1 RSAPublicKey: Windows computer keys.
    Pkcs1Der,
    /// DER SubjectPublicKeyInfo: Samba-written keys.
    SpkiDer,
    /// TPM 2.0 Platform Crypto Provider key blob ("PCPM") wrapping a TPM2B_PUBLIC.
    TpmPcp,
}

/// The KeyMaterial value, classified. Every variant keeps the exact bytes, so a parsed blob
/// serialises back unchanged; a value that is none of the known forms is not an error of
/// the blob, it is simply a key the KDC cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    Rsa {
        key: RsaPublicKey,
        format: RsaKeyFormat,
        raw: Vec<u8>,
    },
    /// A well-formed SubjectPublicKeyInfo for another algorithm (e.g. EC), DER.
    Spki(Vec<u8>),
    /// A "PCPM" blob whose public part is not an RSA key this parser understands.
    TpmPcp(Vec<u8>),
    /// The JSON form Azure AD writes for FIDO2 keys (`{version, authData, x5c, displayName}`).
    Fido(Vec<u8>),
    Unknown(Vec<u8>),
}

const BCRYPT_RSA1_MAGIC: &[u8; 4] = b"RSA1";
const PCP_MAGIC: &[u8; 4] = b"PCPM";
const DER_SEQUENCE: u8 = 0x30;

impl KeyMaterial {
    /// Classifies a KeyMaterial value. Never fails: unusable forms become `Unknown`.
    pub fn from_bytes(raw: Vec<u8>) -> Self {
        let rsa = |key: RsaPublicKey, format: RsaKeyFormat, raw: Vec<u8>| KeyMaterial::Rsa {
            key,
            format,
            raw,
        };
        if raw.starts_with(BCRYPT_RSA1_MAGIC) {
            return match RsaPublicKey::from_bcrypt_rsa1(&raw) {
                Ok(key) => rsa(key, RsaKeyFormat::BcryptRsa1, raw),
                Err(_) => KeyMaterial::Unknown(raw),
            };
        }
        if raw.starts_with(PCP_MAGIC) {
            return match rsa_from_pcp_blob(&raw) {
                Some(key) => rsa(key, RsaKeyFormat::TpmPcp, raw),
                None => KeyMaterial::TpmPcp(raw),
            };
        }
        if raw.first() == Some(&b'{') && std::str::from_utf8(&raw).is_ok() {
            return KeyMaterial::Fido(raw);
        }
        if raw.first() == Some(&DER_SEQUENCE) {
            if let Ok(spki) = SubjectPublicKeyInfoRef::from_der(&raw) {
                if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
                    return KeyMaterial::Spki(raw);
                }
                return match RsaPublicKey::from_spki(&spki) {
                    Ok(key) => rsa(key, RsaKeyFormat::SpkiDer, raw),
                    Err(_) => KeyMaterial::Unknown(raw),
                };
            }
            if let Ok(key) = RsaPublicKey::from_pkcs1_der(&raw) {
                return rsa(key, RsaKeyFormat::Pkcs1Der, raw);
            }
        }
        KeyMaterial::Unknown(raw)
    }

    /// The BCRYPT RSA1 form Windows writes for Windows Hello for Business user keys.
    pub fn from_rsa_bcrypt(key: &RsaPublicKey) -> Self {
        KeyMaterial::Rsa {
            key: key.clone(),
            format: RsaKeyFormat::BcryptRsa1,
            raw: key.to_bcrypt_rsa1(),
        }
    }

    /// The value exactly as stored.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            KeyMaterial::Rsa { raw, .. }
            | KeyMaterial::Spki(raw)
            | KeyMaterial::TpmPcp(raw)
            | KeyMaterial::Fido(raw)
            | KeyMaterial::Unknown(raw) => raw,
        }
    }

    /// The RSA public key, if the material is one in a form this crate understands.
    pub fn rsa_public_key(&self) -> Option<&RsaPublicKey> {
        match self {
            KeyMaterial::Rsa { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Big-endian field reader for TPM 2.0 structures (TPM 2.0 Part 2 uses network order).
struct TpmReader<'a>(&'a [u8]);

impl<'a> TpmReader<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(head)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn sized(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }
}

const PCP_TYPE_TPM20: u32 = 2;
const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ALG_RSASSA: u16 = 0x0014;
const TPM_ALG_RSAES: u16 = 0x0015;
const TPM_ALG_RSAPSS: u16 = 0x0016;
const TPM_ALG_OAEP: u16 = 0x0017;
/// TPMS_RSA_PARMS.exponent = 0 means the default, 2^16 + 1.
const TPM_DEFAULT_RSA_EXPONENT: u32 = 65_537;

/// The RSA key inside a PCP_KEY_BLOB_WIN8: a little-endian header (magic, cbHeader,
/// pcpType, flags, cbPublic, ...) followed at cbHeader by a TPM2B_PUBLIC of cbPublic bytes.
fn rsa_from_pcp_blob(blob: &[u8]) -> Option<RsaPublicKey> {
    let field = |index: usize| -> Option<usize> {
        let bytes: [u8; 4] = blob.get(index * 4..index * 4 + 4)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(bytes)).ok()
    };
    let header_len = field(1)?;
    if header_len < 20 || field(2)? != PCP_TYPE_TPM20 as usize {
        return None;
    }
    let public_len = field(4)?;
    let public = blob.get(header_len..header_len.checked_add(public_len)?)?;
    rsa_from_tpm2b_public(public)
}

/// TPM2B_PUBLIC (TPM 2.0 Part 2, 12.2.5) holding an RSA TPMT_PUBLIC.
fn rsa_from_tpm2b_public(tpm2b_public: &[u8]) -> Option<RsaPublicKey> {
    let mut outer = TpmReader(tpm2b_public);
    let mut public = TpmReader(outer.sized()?);
    if !outer.0.is_empty() || public.u16()? != TPM_ALG_RSA {
        return None;
    }
    let _name_alg = public.u16()?;
    let _object_attributes = public.u32()?;
    let _auth_policy = public.sized()?;
    // TPMT_SYM_DEF_OBJECT: keyBits and mode follow unless the algorithm is NULL.
    if public.u16()? != TPM_ALG_NULL {
        public.take(4)?;
    }
    // TPMT_RSA_SCHEME: signing and OAEP schemes carry a hash algorithm; NULL and RSAES none.
    match public.u16()? {
        TPM_ALG_NULL | TPM_ALG_RSAES => {}
        TPM_ALG_RSASSA | TPM_ALG_RSAPSS | TPM_ALG_OAEP => {
            public.u16()?;
        }
        _ => return None,
    }
    let key_bits = usize::from(public.u16()?);
    let exponent = match public.u32()? {
        0 => TPM_DEFAULT_RSA_EXPONENT,
        explicit => explicit,
    };
    let modulus = public.sized()?;
    if !public.0.is_empty() || modulus.len() * 8 != key_bits {
        return None;
    }
    RsaPublicKey::from_components(modulus, &exponent.to_be_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tpm2b_public(scheme: &[u8], modulus: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(&TPM_ALG_RSA.to_be_bytes());
        t.extend_from_slice(&0x000Bu16.to_be_bytes()); // nameAlg SHA-256
        t.extend_from_slice(&0x0006_0072u32.to_be_bytes());
        t.extend_from_slice(&0u16.to_be_bytes()); // empty authPolicy
        t.extend_from_slice(&TPM_ALG_NULL.to_be_bytes());
        t.extend_from_slice(scheme);
        t.extend_from_slice(&u16::try_from(modulus.len() * 8).unwrap().to_be_bytes());
        t.extend_from_slice(&0u32.to_be_bytes());
        t.extend_from_slice(&u16::try_from(modulus.len()).unwrap().to_be_bytes());
        t.extend_from_slice(modulus);
        let mut out = u16::try_from(t.len()).unwrap().to_be_bytes().to_vec();
        out.extend(t);
        out
    }

    #[test]
    fn tpm_public_with_signing_scheme_yields_the_key() {
        let modulus = [0xC3; 128];
        let scheme = [0x00, 0x14, 0x00, 0x0B]; // RSASSA with SHA-256
        let key = rsa_from_tpm2b_public(&tpm2b_public(&scheme, &modulus)).unwrap();
        assert_eq!(key.modulus(), modulus);
        assert_eq!(key.exponent(), [0x01, 0x00, 0x01]);
        let mut trailing = tpm2b_public(&scheme, &modulus);
        trailing.push(0);
        assert!(rsa_from_tpm2b_public(&trailing).is_none());
    }

    #[test]
    fn malformed_der_is_unknown_not_an_error() {
        let material = KeyMaterial::from_bytes(vec![0x30, 0x03, 0x02, 0x01]);
        assert!(matches!(material, KeyMaterial::Unknown(_)));
        assert!(material.rsa_public_key().is_none());
    }
}

//! TPM public areas (TPM 2.0 Part 2 §12.2.4 TPMT_PUBLIC) turned into what X.509 and CMS carry:
//! SubjectPublicKeyInfo (RFC 5280 §4.1.2.7; RFC 3279 §2.3.1 RSA, RFC 5480 §2 EC P-256) and the
//! ECDSA signature as DER Ecdsa-Sig-Value (RFC 3279 §2.2.3).

use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::structures::Public;

use super::esapi::TpmError;
use crate::proto::codes::oid;
use crate::proto::der::{self, tag};
use crate::signer::SignatureScheme;

const PRIME256V1: &[u32] = &[1, 2, 840, 10045, 3, 1, 7];
/// TPM 2.0 Part 2 §12.2.3.5: an exponent of zero means the default, 2^16 + 1.
const DEFAULT_RSA_EXPONENT: u32 = 0x0001_0001;

pub fn scheme(public: &Public) -> Result<SignatureScheme, TpmError> {
    match public {
        Public::Rsa { .. } => Ok(SignatureScheme::RsaPkcs1Sha256),
        Public::Ecc { parameters, .. } if parameters.ecc_curve() == EccCurve::NistP256 => {
            Ok(SignatureScheme::EcdsaP256Sha256)
        }
        _ => Err(TpmError::Key(
            "the TPM key is neither RSA nor ECC P-256".into(),
        )),
    }
}

pub fn spki_der(public: &Public) -> Result<Vec<u8>, TpmError> {
    match public {
        Public::Rsa {
            parameters, unique, ..
        } => {
            let exponent = match parameters.exponent().value() {
                0 => DEFAULT_RSA_EXPONENT,
                e => e,
            };
            Ok(rsa_spki(unique.value(), &exponent.to_be_bytes()))
        }
        Public::Ecc { unique, .. } => {
            scheme(public)?;
            p256_spki(unique.x().value(), unique.y().value())
        }
        _ => Err(TpmError::Key(
            "the TPM key is neither RSA nor ECC P-256".into(),
        )),
    }
}

/// SPKI for an RSA key: rsaEncryption with NULL parameters, RSAPublicKey in the BIT STRING.
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let rsa_public_key = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_unsigned_integer(modulus),
            &der::encode_unsigned_integer(exponent),
        ],
    );
    let algorithm = der::encode_parts(
        tag::SEQUENCE,
        &[&der::encode_oid(oid::RSA_ENCRYPTION), &[tag::NULL, 0]],
    );
    spki(&algorithm, &rsa_public_key)
}

/// SPKI for a P-256 key: id-ecPublicKey, namedCurve prime256v1, the uncompressed point.
pub fn p256_spki(x: &[u8], y: &[u8]) -> Result<Vec<u8>, TpmError> {
    let mut point = vec![0x04];
    for coordinate in [x, y] {
        let padding = 32usize
            .checked_sub(coordinate.len())
            .ok_or_else(|| TpmError::Key("P-256 coordinate longer than 32 bytes".into()))?;
        point.extend(std::iter::repeat_n(0, padding));
        point.extend_from_slice(coordinate);
    }
    let algorithm = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_oid(oid::EC_PUBLIC_KEY),
            &der::encode_oid(PRIME256V1),
        ],
    );
    Ok(spki(&algorithm, &point))
}

fn spki(algorithm: &[u8], key_bits: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(key_bits.len() + 1);
    bits.push(0);
    bits.extend_from_slice(key_bits);
    der::encode_parts(
        tag::SEQUENCE,
        &[algorithm, &der::encode(tag::BIT_STRING, &bits)],
    )
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`.
pub fn ecdsa_sig_value(r: &[u8], s: &[u8]) -> Vec<u8> {
    der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_unsigned_integer(r),
            &der::encode_unsigned_integer(s),
        ],
    )
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

    use super::*;

    #[test]
    fn p256_spki_matches_aws_lc() {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = key.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        let expected = key.public_key().as_der().unwrap();
        assert_eq!(p256_spki(x, y).unwrap(), expected.as_ref());
    }

    #[test]
    fn rsa_spki_matches_aws_lc() {
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs1 = key.public_key().as_ref();
        // RSAPublicKey: SEQUENCE { n, e }; rebuild from its parts.
        let seq = der::Tlv::read_only(pkcs1, tag::SEQUENCE).unwrap();
        let mut parts = seq.children();
        let n = parts.next_required().unwrap().value;
        let e = parts.next_required().unwrap().value;
        let expected = key.public_key().as_der().unwrap();
        assert_eq!(rsa_spki(n, e), expected.as_ref());
    }

    /// A fixed-width (r || s) signature re-encoded as Ecdsa-Sig-Value must verify with the
    /// ASN.1 verifier: r and s with their top bit set get a leading zero.
    #[test]
    fn ecdsa_sig_value_verifies() {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let rng = aws_lc_rs::rand::SystemRandom::new();
        for i in 0..32u8 {
            let message = [i; 8];
            let fixed = key.sign(&rng, &message).unwrap();
            let (r, s) = fixed.as_ref().split_at(32);
            let der = ecdsa_sig_value(r, s);
            aws_lc_rs::signature::UnparsedPublicKey::new(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
                key.public_key().as_ref(),
            )
            .verify(&message, &der)
            .unwrap();
        }
    }
}

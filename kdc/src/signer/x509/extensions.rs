//! The certificate extensions a KDC key needs (RFC 4556 §3.2.4: id-pkinit-san
//! krbtgt/REALM@REALM and id-pkinit-KPKdc; serverAuth and a dNSName for Windows clients) and
//! those of the TPM key when it certifies delegated KDC keys (RFC 5280 §4.2.1.9: a CA with
//! pathLenConstraint 0), plus the key identifiers that link the two (RFC 5280 §4.2.1.1-2).

use crate::proto::codes::oid;
use crate::proto::der::{self, tag};
use crate::proto::kerberos::{NT_SRV_INST, principal};
use crate::proto::pkinit::Krb5PrincipalName;
use crate::signer::SignerError;

use super::extension;

const BASIC_CONSTRAINTS: &[u32] = &[2, 5, 29, 19];
const KEY_USAGE: &[u32] = &[2, 5, 29, 15];
const EXTENDED_KEY_USAGE: &[u32] = &[2, 5, 29, 37];
const SUBJECT_ALT_NAME: &[u32] = &[2, 5, 29, 17];
const SUBJECT_KEY_IDENTIFIER: &[u32] = &[2, 5, 29, 14];
const AUTHORITY_KEY_IDENTIFIER: &[u32] = &[2, 5, 29, 35];
const SERVER_AUTH: &[u32] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];

/// keyUsage digitalSignature | keyEncipherment (bits 0 and 2; 5 unused bits).
const KDC_KEY_USAGE: [u8; 4] = [0x03, 0x02, 0x05, 0xa0];
/// keyUsage digitalSignature | keyCertSign | cRLSign (bits 0, 5, 6; 1 unused bit).
const CA_KEY_USAGE: [u8; 4] = [0x03, 0x02, 0x01, 0x86];

/// Extensions of a KDC certificate for `realm`, reachable as `dns_name`.
pub fn kdc(realm: &str, dns_name: &str) -> Result<Vec<Vec<u8>>, SignerError> {
    let eku = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_oid(oid::PKINIT_KP_KDC),
            &der::encode_oid(SERVER_AUTH),
        ],
    );
    Ok(vec![
        extension(KEY_USAGE, true, &KDC_KEY_USAGE),
        extension(EXTENDED_KEY_USAGE, false, &eku),
        extension(SUBJECT_ALT_NAME, false, &kdc_san(realm, dns_name)?),
    ])
}

/// Extensions of the TPM key's certificate in delegated mode: a CA that may issue only
/// end-entity certificates.
pub fn delegating_ca() -> Vec<Vec<u8>> {
    // BasicConstraints { cA TRUE, pathLenConstraint 0 }.
    let basic = [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00];
    vec![
        extension(BASIC_CONSTRAINTS, true, &basic),
        extension(KEY_USAGE, true, &CA_KEY_USAGE),
    ]
}

/// subjectAltName: otherName id-pkinit-san = krbtgt/REALM@REALM, and a dNSName.
fn kdc_san(realm: &str, dns_name: &str) -> Result<Vec<u8>, SignerError> {
    let krbtgt = Krb5PrincipalName::new(realm, principal(NT_SRV_INST, &["krbtgt", realm]));
    let krbtgt_der = rasn::der::encode(&krbtgt)
        .map_err(|e| SignerError::Key(format!("KRB5PrincipalName: {e}")))?;
    let other_name = der::encode_parts(
        tag::context(0),
        &[
            &der::encode_oid(oid::PKINIT_SAN),
            &der::encode(tag::context(0), &krbtgt_der),
        ],
    );
    let dns = der::encode(tag::context_primitive(2), dns_name.as_bytes());
    Ok(der::encode_parts(tag::SEQUENCE, &[&other_name, &dns]))
}

/// subjectKeyIdentifier by RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
pub fn subject_key_identifier(public_key_bits: &[u8]) -> Vec<u8> {
    let id = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        public_key_bits,
    );
    extension(
        SUBJECT_KEY_IDENTIFIER,
        false,
        &der::encode(tag::OCTET_STRING, id.as_ref()),
    )
}

/// authorityKeyIdentifier { keyIdentifier } naming the issuer's subjectKeyIdentifier.
pub fn authority_key_identifier(issuer_key_id: &[u8]) -> Vec<u8> {
    let value = der::encode(
        tag::SEQUENCE,
        &der::encode(tag::context_primitive(0), issuer_key_id),
    );
    extension(AUTHORITY_KEY_IDENTIFIER, false, &value)
}

#[cfg(test)]
mod tests {
    use x509_parser::extensions::{GeneralName, ParsedExtension};

    use super::*;

    /// Parses an Extensions list back with x509-parser, an independent decoder.
    fn parsed(extensions: &[Vec<u8>]) -> Vec<(bool, ParsedExtension<'static>)> {
        extensions
            .iter()
            .map(|e| {
                let leaked: &'static [u8] = Box::leak(e.clone().into_boxed_slice());
                let (rest, ext) = <x509_parser::extensions::X509Extension as x509_parser::prelude::FromDer<_>>::from_der(leaked).unwrap();
                assert!(rest.is_empty());
                (ext.critical, ext.parsed_extension().clone())
            })
            .collect()
    }

    #[test]
    fn kdc_extensions_decode_as_rfc4556_wants() {
        let exts = parsed(&kdc("EXAMPLE.TEST", "kdc.example.test").unwrap());
        let mut seen = 0;
        for (critical, ext) in exts {
            match ext {
                ParsedExtension::KeyUsage(ku) => {
                    assert!(critical && ku.digital_signature() && ku.key_encipherment());
                    assert!(!ku.key_cert_sign());
                    seen += 1;
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    assert!(eku.server_auth);
                    assert_eq!(eku.other.len(), 1);
                    assert_eq!(eku.other[0].to_id_string(), "1.3.6.1.5.2.3.5");
                    seen += 1;
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    match &san.general_names[0] {
                        GeneralName::OtherName(id, _) => {
                            assert_eq!(id.to_id_string(), "1.3.6.1.5.2.2")
                        }
                        other => panic!("first SAN {other:?}"),
                    }
                    assert_eq!(
                        san.general_names[1],
                        GeneralName::DNSName("kdc.example.test")
                    );
                    seen += 1;
                }
                other => panic!("unexpected extension {other:?}"),
            }
        }
        assert_eq!(seen, 3);
    }

    #[test]
    fn delegating_ca_is_path_len_zero() {
        let exts = parsed(&delegating_ca());
        match &exts[0] {
            (true, ParsedExtension::BasicConstraints(bc)) => {
                assert!(bc.ca);
                assert_eq!(bc.path_len_constraint, Some(0));
            }
            other => panic!("{other:?}"),
        }
        match &exts[1] {
            (true, ParsedExtension::KeyUsage(ku)) => {
                assert!(ku.key_cert_sign() && ku.crl_sign() && ku.digital_signature());
                assert!(!ku.key_encipherment());
            }
            other => panic!("{other:?}"),
        }
    }
}

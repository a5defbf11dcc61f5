//! PA-PK-AS-REQ (RFC 4556 §3.2.1) and the CMS SignedData inside it (RFC 5652 §5): the
//! SignerInfo, its signed attributes, the certificates the client presents, and the
//! signature check with the signer's certificate and, as key trust does, with its bare key.
//! Content whose signature verifies goes on to the AuthPack checks of `auth_pack`.

use std::borrow::Cow;

use kdc::preauth::pkinit::cert_trust::{self, path_search};
use kdc::preauth::pkinit::cms::{self, ContentType, SignedContent};
use kdc::proto::pkinit::PaPkAsReq;
use kdc_directory::RsaPublicKey;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::check::{der_round_trip, lies_within};

/// rsaEncryption (RFC 8017 §A.1), whose BIT STRING is the PKCS#1 RSAPublicKey key trust holds.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

pub fn run(data: &[u8]) {
    let Ok(pa) = rasn::der::decode::<PaPkAsReq>(data) else {
        return;
    };
    der_round_trip(&pa);
    let content_info: &[u8] = &pa.signed_auth_pack;
    let Ok(signed) = cms::parse(content_info, ContentType::AuthPack) else {
        return;
    };
    check_signed(content_info, &signed);
}

fn check_signed<'a>(content_info: &'a [u8], signed: &SignedContent<'a>) {
    let certificates = signed.certificates();
    assert!(certificates.iter().all(|c| lies_within(content_info, c)));
    let counted = path_search::check_count(certificates);
    assert_eq!(
        counted.is_ok(),
        certificates.len() <= path_search::MAX_PRESENTED_CERTIFICATES
    );
    let Some(leaf) = signed.signer_certificate() else {
        assert!(matches!(
            cms::verify(content_info, ContentType::AuthPack),
            Err(cms::CmsError::NoSignerCertificate)
        ));
        return;
    };
    assert!(certificates.contains(&leaf));
    // The KDC parses the signer's certificate without a fallback: it must be one that parses.
    let parsed = cert_trust::chain::parse(leaf);
    assert!(parsed.is_ok(), "the signer's certificate parses");
    if let Ok(cert) = parsed {
        let _ = cert_trust::is_self_signed(&cert);
    }
    let by_certificate = signed.verify_with_certificate(leaf);
    if let Some(pkcs1) = rsa_key_of(leaf) {
        // Key trust checks the same signature with the key alone: the verdicts agree.
        assert_eq!(
            signed.verify_with_rsa_key(pkcs1).is_ok(),
            by_certificate.is_ok()
        );
    }
    let Ok(verified) = by_certificate else {
        return;
    };
    assert!(lies_within(content_info, verified.content()));
    assert_eq!(verified.signer_certificate(), Some(leaf));
    assert_eq!(verified.digest_algorithm(), signed.digest_algorithm());
    assert!(!verified.digest_algorithm_ids().is_empty());
    super::auth_pack::run(verified.content());
}

/// The PKCS#1 RSAPublicKey of an RSA certificate whose SubjectPublicKeyInfo the KDC reads as
/// key trust does (`RsaPublicKey::from_spki_der`, strict DER). x509-parser alone also takes an
/// SPKI under a wrong tag (found by this target: 0x70 for 0x30), which the KDC refuses, so the
/// verdicts are compared only for keys the KDC would read.
fn rsa_key_of(certificate: &[u8]) -> Option<&[u8]> {
    let (_, cert) = X509Certificate::from_der(certificate).ok()?;
    let spki = cert.tbs_certificate.subject_pki;
    if spki.algorithm.algorithm.to_id_string() != RSA_ENCRYPTION
        || RsaPublicKey::from_spki_der(spki.raw).is_err()
    {
        return None;
    }
    match spki.subject_public_key.data {
        Cow::Borrowed(key) => Some(key),
        Cow::Owned(_) => None,
    }
}

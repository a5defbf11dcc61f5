//! Certification path building and validation (RFC 4158, RFC 5280 §6.1) over the
//! certificates a client presents in its SignedData (RFC 4556 §3.2.2), against the trust
//! store of the development realm, then revocation by its CRLs (§6.3). The input is the
//! presented certificates as concatenated DER, the signer's first.

use kdc::error::KdcError;
use kdc::preauth::pkinit::cert_trust::{self, chain, path_search, revocation};
use kdc::proto::codes::ErrorCode;
use kdc::proto::der::Tlv;
use kdc_config::RevocationPolicy;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::time::ASN1Time;

use crate::fixtures::{NOW_UNIX, TRUST_STORE};

/// Longest path `path_search` looks for, and most paths it returns (its documented bounds).
const MAX_PATH_LEN: usize = 6;
const MAX_PATHS: usize = 16;

pub fn run(data: &[u8]) {
    let presented = split(data);
    let Some(&leaf) = presented.first() else {
        return;
    };
    if let Ok(cert) = chain::parse(leaf) {
        let _ = cert_trust::is_self_signed(&cert);
    }
    let store = &*TRUST_STORE;
    let paths = match path_search::name_paths(leaf, &presented, store) {
        Ok(paths) => paths,
        Err(error) => {
            assert_eq!(error.code(), ErrorCode::CANT_VERIFY_CERTIFICATE, "{error}");
            return;
        }
    };
    assert!(presented.len() <= path_search::MAX_PRESENTED_CERTIFICATES);
    assert!(paths.len() <= MAX_PATHS);
    for path in &paths {
        check_names(path, &presented);
    }
    if paths.is_empty() {
        return;
    }
    let Ok(now) = ASN1Time::from_timestamp(NOW_UNIX as i64) else {
        return;
    };
    let certs = match chain::validate(&paths, now) {
        Ok(certs) => certs,
        Err(error) => {
            assert!(
                matches!(
                    error,
                    KdcError::InvalidCertificate(_) | KdcError::CantVerifyCertificate(_)
                ),
                "{error}"
            );
            return;
        }
    };
    let path: Vec<&[u8]> = certs.iter().map(X509Certificate::as_raw).collect();
    assert!(
        paths.contains(&path),
        "the validated certificates are a found path"
    );
    let policy = revocation::Policy {
        missing_crl: RevocationPolicy::FailClosed,
        stale_crl: RevocationPolicy::FailClosed,
    };
    for pair in certs.windows(2) {
        if let [cert, issuer] = pair {
            match revocation::check(cert, issuer, store, policy, now) {
                Ok(()) => {}
                Err(KdcError::RevokedCertificate(_)) => {
                    // Only a CRL of the issuer, signed by it, that lists the serial revokes.
                    assert!(store.crls.iter().any(|crl| {
                        crl.issuer == issuer.subject().as_raw()
                            && crl.revocation_date(cert.raw_serial()).is_some()
                            && crl.is_signed_by(issuer)
                    }));
                }
                Err(error) => assert_eq!(
                    error.code(),
                    ErrorCode::REVOCATION_STATUS_UNKNOWN,
                    "{error}"
                ),
            }
        }
    }
}

/// A path runs from the leaf through presented or pooled certificates to an anchor, each
/// certificate named as issuer by the one before it, none twice.
fn check_names(path: &[&[u8]], presented: &[&[u8]]) {
    let store = &*TRUST_STORE;
    assert!((2..=MAX_PATH_LEN).contains(&path.len()));
    assert_eq!(path.first(), presented.first());
    let last = path.last().copied().unwrap_or_default();
    assert!(store.anchors.iter().any(|anchor| anchor.der == last));
    for (index, der) in path.iter().enumerate() {
        assert!(!path.get(index + 1..).unwrap_or_default().contains(der));
        let known = presented.contains(der)
            || store.intermediates.iter().any(|named| named.der == *der)
            || store.anchors.iter().any(|named| named.der == *der);
        assert!(known, "a path holds only presented or stored certificates");
    }
    for link in path.windows(2) {
        if let [cert, issuer] = link {
            let (Some(cert), Some(issuer)) = (parse(cert), parse(issuer)) else {
                panic!("a certificate of a name path does not parse");
            };
            assert_eq!(cert.issuer().as_raw(), issuer.subject().as_raw());
        }
    }
}

/// The DER elements of the input, as a SignedData's certificate SET holds them.
fn split(mut data: &[u8]) -> Vec<&[u8]> {
    let mut elements = Vec::new();
    while let Ok((element, rest)) = Tlv::read(data) {
        elements.push(element.raw);
        data = rest;
    }
    elements
}

fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(der).ok().map(|(_, cert)| cert)
}

//! A CRL as the trust store reads it (RFC 5280 §5): parsing, the revoked-serial index, the
//! issuingDistributionPoint scope (§5.2.5), the signature verdict cached per issuer key, and
//! the revocation check (§6.3) of the fixture certificates against a store holding it.

use kdc::error::KdcError;
use kdc::preauth::pkinit::cert_trust::crl::{Crl, Scope};
use kdc::preauth::pkinit::cert_trust::revocation;
use kdc::preauth::pkinit::cert_trust::store::TrustStore;
use kdc::proto::codes::ErrorCode;
use kdc_config::RevocationPolicy;
use x509_parser::time::ASN1Time;

use crate::fixtures::{NOW_UNIX, certificate, certificates};

pub fn run(data: &[u8]) {
    let Ok(crl) = Crl::parse(data.to_vec()) else {
        return;
    };
    match &crl.scope {
        Scope::Complete => assert!(crl.covers(true) && crl.covers(false)),
        Scope::EndEntities => assert!(!crl.covers(true) && crl.covers(false)),
        Scope::Unsupported(_) => assert!(!crl.covers(true) && !crl.covers(false)),
    }
    // A serial is looked up by its magnitude, however the certificate encodes it.
    let tail = data.get(data.len().saturating_sub(3)..).unwrap_or_default();
    for serial in [&[0x20, 0x02][..], &[0xff], &[0x01], tail] {
        let padded = [&[0x00][..], serial].concat();
        assert_eq!(crl.revocation_date(serial), crl.revocation_date(&padded));
    }
    let ca = certificate(certificates::CA);
    let issuing_ca = certificate(certificates::ISSUING_CA);
    let leaves = [
        (certificate(certificates::BOB), &ca),
        (certificate(certificates::CAROL), &issuing_ca),
        (certificate(certificates::DAVE), &issuing_ca),
        (certificate(certificates::ISSUING_CA), &ca),
    ];
    let verdicts: Vec<bool> = [&ca, &issuing_ca]
        .iter()
        .map(|issuer| crl.is_signed_by(issuer))
        .collect();
    let store = TrustStore {
        crls: vec![crl],
        ..TrustStore::default()
    };
    let Some(crl) = store.crls.first() else {
        return;
    };
    // The remembered verdict is the one first given.
    assert_eq!(crl.is_signed_by(&ca), verdicts.first() == Some(&true));
    assert_eq!(
        crl.is_signed_by(&issuing_ca),
        verdicts.get(1) == Some(&true)
    );
    let Ok(now) = ASN1Time::from_timestamp(NOW_UNIX as i64) else {
        return;
    };
    let policy = revocation::Policy {
        missing_crl: RevocationPolicy::FailClosed,
        stale_crl: RevocationPolicy::FailClosed,
    };
    for (cert, issuer) in &leaves {
        match revocation::check(cert, issuer, &store, policy, now) {
            Ok(()) => assert!(crl.is_signed_by(issuer) && crl.issuer == issuer.subject().as_raw()),
            Err(KdcError::RevokedCertificate(_)) => {
                assert!(crl.is_signed_by(issuer));
                assert!(crl.revocation_date(cert.raw_serial()).is_some());
            }
            Err(error) => assert_eq!(
                error.code(),
                ErrorCode::REVOCATION_STATUS_UNKNOWN,
                "{error}"
            ),
        }
    }
}

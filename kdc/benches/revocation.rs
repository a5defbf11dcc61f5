//! Cost of the CRL check of certificate trust (RFC 5280 §6.3) per logon, with a CRL of an
//! enterprise's size: the lookup of one serial against a CRL parsed when the trust store was
//! read, next to what reading it costs (which the store pays once per CRL file change).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kdc::preauth::pkinit::cert_trust::crl::Crl;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Revoked certificates in the CRL: a large enterprise CA's list after a few years.
const REVOKED: u32 = 50_000;

fn revocation(c: &mut Criterion) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Bench CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_der = params.self_signed(&key).unwrap().der().to_vec();
    let now = OffsetDateTime::now_utc();
    let crl_der = CertificateRevocationListParams {
        this_update: now - Duration::days(1),
        next_update: now + Duration::days(7),
        crl_number: vec![1].into(),
        issuing_distribution_point: None,
        revoked_certs: (0..REVOKED)
            .map(|n| RevokedCertParams {
                serial_number: SerialNumber::from(
                    [&[0x10u8][..], &n.to_be_bytes()[..], &[0x5A; 11][..]].concat(),
                ),
                revocation_time: now - Duration::days(2),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&Issuer::new(params, &key))
    .unwrap()
    .der()
    .to_vec();
    let ca = X509Certificate::from_der(&ca_der).unwrap().1;
    let crl = Crl::parse(crl_der.clone()).unwrap();
    assert!(crl.is_signed_by(&ca));
    let not_revoked = [0x20u8; 16];

    let mut group = c.benchmark_group(format!("crl-{REVOKED}-entries"));
    group.sample_size(10);
    group.bench_function("per-logon check (lookup, cached signature)", |b| {
        b.iter(|| {
            assert!(crl.is_signed_by(black_box(&ca)));
            black_box(crl.revocation_date(black_box(&not_revoked)))
        })
    });
    group.bench_function("store read (parse and index)", |b| {
        b.iter(|| Crl::parse(black_box(crl_der.clone())).unwrap())
    });
    group.bench_function("signature verification (once per issuer key)", |b| {
        b.iter(|| {
            let fresh = Crl::parse(crl_der.clone()).unwrap();
            assert!(fresh.is_signed_by(black_box(&ca)));
        })
    });
    group.finish();
}

criterion_group!(benches, revocation);
criterion_main!(benches);

//! Cost of authenticating a PKINIT signer under certificate trust (RFC 4556 §3.2.2, RFC 5280
//! §6), as a hostile client sees it: bob's genuine certificate accepted (routing, path
//! building, chain signatures, CRL, SignedData signature, mapping) next to SignedDatas
//! carrying certificates for two names that issue each other, which must be refused
//! (KDC_ERR_CANT_VERIFY_CERTIFICATE) without following their loop: 200 of them (over the
//! count bound) and 9 (within it, so the link bound of path building stops them). Each
//! iteration parses the SignedData and authenticates its signer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};
use kdc::error::KdcError;
use kdc::preauth::pkinit::cms;
use kdc::proto::codes::padata;
use kdc::proto::kerberos::KdcRequest;
use kdc::proto::pkinit::PaPkAsReq;
use kdc::signer::software::SoftwareSigner;
use kdc_client::{ClientOptions, build_request};
use kdc_directory::{Directory, EmbeddedDirectory};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SerialNumber,
};

const REALM: &str = "EXAMPLE.TEST";

/// The signed AuthPack (a ContentInfo) of bob's PKINIT request signed by `signer`.
fn signed_auth_pack(runtime: &tokio::runtime::Runtime, signer: &SoftwareSigner) -> Vec<u8> {
    let options = ClientOptions::new(REALM, "bob");
    let request = runtime.block_on(build_request(&options, signer)).unwrap();
    let request = KdcRequest::decode(&request.message).unwrap();
    let pa: PaPkAsReq = rasn::der::decode(request.padata(padata::PK_AS_REQ).unwrap()).unwrap();
    pa.signed_auth_pack.to_vec()
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// A signer for a leaf issued under "Crossed X", carrying `count` certificates of "Crossed
/// X" and "Crossed Y" issuing each other in turn.
fn crossed_signer(count: usize) -> SoftwareSigner {
    let (x_key, y_key) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
    let x = Issuer::new(ca_params("Crossed X"), &x_key);
    let y = Issuer::new(ca_params("Crossed Y"), &y_key);
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name.push(DnType::CommonName, "bob");
    let mut chain = vec![leaf.signed_by(&leaf_key, &x).unwrap().der().to_vec()];
    for i in 0..count {
        let (name, key, issuer) = if i % 2 == 0 {
            ("Crossed X", &x_key, &y)
        } else {
            ("Crossed Y", &y_key, &x)
        };
        let mut params = ca_params(name);
        params.serial_number = Some(SerialNumber::from(i as u64 + 1));
        chain.push(params.signed_by(key, issuer).unwrap().der().to_vec());
    }
    SoftwareSigner::from_der(&leaf_key.serialize_der(), chain).unwrap()
}

fn path_building(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime
        .block_on(kdc::dev_realm::create(dir.path(), REALM, 1))
        .unwrap();
    let (_, kdc) = runtime
        .block_on(kdc::build::from_file(&dir.path().join("kdc.toml")))
        .unwrap();
    let directory = runtime
        .block_on(EmbeddedDirectory::load(dir.path().join("directory.toml")))
        .unwrap();
    let bob = runtime
        .block_on(directory.find_user("bob", REALM))
        .unwrap()
        .unwrap();
    let genuine =
        SoftwareSigner::load(&dir.path().join("bob.key"), &dir.path().join("bob.pem")).unwrap();

    let check = |signed_auth_pack: &[u8]| -> Result<(), KdcError> {
        let signed = cms::parse(signed_auth_pack, cms::ContentType::AuthPack).unwrap();
        let now = SystemTime::now();
        runtime
            .block_on(kdc.realm().pkinit().authenticate(&bob, REALM, &signed, now))
            .map(|_| ())
    };
    let cases = [
        (
            "genuine certificate, accepted",
            signed_auth_pack(&runtime, &genuine),
            0,
        ),
        (
            "200 crossed certificates, refused",
            signed_auth_pack(&runtime, &crossed_signer(200)),
            70,
        ),
        (
            "9 crossed certificates, refused",
            signed_auth_pack(&runtime, &crossed_signer(9)),
            70,
        ),
    ];
    let mut group = c.benchmark_group("certificate-trust");
    for (name, request, expected) in &cases {
        let code = check(request).err().map_or(0, |e| e.code().0);
        assert_eq!(code, *expected, "{name}");
        group.bench_function(*name, |b| b.iter(|| check(black_box(request))));
    }
    group.finish();
}

criterion_group!(benches, path_building);
criterion_main!(benches);

//! Writes the seed corpora of the targets past the signature (`as_signed`,
//! `tgs_authenticator`): AuthPacks of the real captures (testdata/wire, testdata/wire-ec) and
//! of the client for every group and curve and client shape, and the client's authenticators.
//! Run by hand when a target's input format changes:
//! `cargo run -p kdc-fuzz --example seeds_past_signature`; then minimize with `cargo fuzz cmin`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use kdc::preauth::pkinit::agreement::{DhGroup, EcCurve, ModpGroup, PkinitKdf};
use kdc::preauth::pkinit::cms;
use kdc::proto::codes::padata;
use kdc::proto::kerberos::{kerberos_string, kerberos_time};
use kdc::proto::pkinit::PaPkAsReq;
use kdc::signer::DigestAlgorithm;
use kdc_client::ClientOptions;
use kdc_fuzz::live_kdc::{FIXTURE, REALM, USER};
use kdc_fuzz::targets::{as_signed, tgs_authenticator};
use rasn_kerberos::{AsReq, Authenticator, Checksum, EncryptionKey};

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The AuthPack an AS-REQ's PA-PK-AS-REQ signs, as signed.
fn auth_pack_of(as_req: &[u8]) -> Vec<u8> {
    let request: AsReq = rasn::der::decode(as_req).unwrap();
    let pa = request
        .0
        .padata
        .iter()
        .flatten()
        .find(|pa| pa.r#type == padata::PK_AS_REQ)
        .unwrap();
    let pa: PaPkAsReq = rasn::der::decode(&pa.value).unwrap();
    cms::verify(&pa.signed_auth_pack, cms::ContentType::AuthPack)
        .unwrap()
        .content()
        .to_vec()
}

fn testdata(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata")
            .join(path),
    )
    .unwrap()
}

fn main() {
    let fixed = as_signed::Control::TCP
        | as_signed::Control::FIX_TIME_AND_CHECKSUM
        | as_signed::Control::BODY_NONCE;
    let dir = corpus("as_signed");
    let write = |name: &str, control: u8, auth_pack: &[u8]| {
        let mut input = vec![control];
        input.extend_from_slice(auth_pack);
        std::fs::write(dir.join(name), input).unwrap();
    };
    for capture in [
        "wire/mit_as_req_pkinit_dh2048.der",
        "wire/mit_as_req_pkinit_dh4096.der",
        "wire/heimdal_as_req_pkinit_dh2048.der",
        "wire-ec/mit_as_req_pkinit_ec_p256_client.der",
    ] {
        let auth_pack = auth_pack_of(&testdata(capture));
        let name = capture.split('/').next_back().unwrap().replace(".der", "");
        write(&format!("{name}_as_sent"), 0, &auth_pack);
        // The captures carry their KDC's freshness token: this one's replaces it.
        write(
            &format!("{name}_fitted"),
            fixed | as_signed::Control::FRESHNESS_TOKEN,
            &auth_pack,
        );
    }
    let groups = [
        ("modp2", DhGroup::Modp(ModpGroup::Modp2)),
        ("modp14", DhGroup::Modp(ModpGroup::Modp14)),
        ("modp16", DhGroup::Modp(ModpGroup::Modp16)),
    ]
    .into_iter()
    .chain(EcCurve::ALL.map(|curve| (curve.name(), DhGroup::Ec(curve))));
    let kdc = FIXTURE.kdc();
    for (group_name, group) in groups {
        for (shape, control, options) in [
            ("mit", fixed, ClientOptions::new(REALM, USER)),
            (
                "windows",
                fixed,
                ClientOptions {
                    // SHA-1 signatures need the `openssl` feature; the AuthPack is the same.
                    signature_digest: DigestAlgorithm::Sha256,
                    ..ClientOptions::windows(REALM, USER)
                },
            ),
            (
                "sha512_kdf_cms_types_checksum2",
                // paChecksum2 as the fixture makes it right (SHA-256).
                fixed | as_signed::Control::PA_CHECKSUM2,
                ClientOptions {
                    kdfs: vec![PkinitKdf::Sha512],
                    supported_cms_types: Some(vec![DigestAlgorithm::Sha384]),
                    pa_checksum2: Some(DigestAlgorithm::Sha512),
                    unsigned_integers: true,
                    ..ClientOptions::new(REALM, USER)
                },
            ),
        ] {
            let options = ClientOptions { group, ..options };
            let request = kdc
                .block_on(kdc_client::build_request(&options, &kdc.signer))
                .unwrap();
            let auth_pack = auth_pack_of(&request.message);
            write(&format!("{group_name}_{shape}"), control, &auth_pack);
            if shape == "mit" {
                write(
                    &format!("{group_name}_{shape}_fresh"),
                    fixed | as_signed::Control::FRESHNESS_TOKEN,
                    &auth_pack,
                );
            }
        }
    }

    let dir = corpus("tgs_authenticator");
    let tgt = FIXTURE.tgt();
    let authenticator = |subkey: Option<EncryptionKey>| Authenticator {
        authenticator_vno: 5.into(),
        crealm: kerberos_string(REALM),
        cname: tgt.client.clone(),
        cksum: Some(Checksum {
            r#type: tgt.session_key.enctype().checksum_type(),
            checksum: vec![0; 12].into(),
        }),
        cusec: 0.into(),
        ctime: kerberos_time(std::time::SystemTime::now()),
        subkey,
        seq_number: None,
        authorization_data: None,
    };
    let subkey = |enctype: i32, len: usize| {
        Some(EncryptionKey {
            r#type: enctype,
            value: vec![0x5a; len].into(),
        })
    };
    let fix = tgs_authenticator::Control::TCP
        | tgs_authenticator::Control::FIX_TIME
        | tgs_authenticator::Control::FIX_CUSEC
        | tgs_authenticator::Control::FIX_CHECKSUM
        | tgs_authenticator::Control::FIX_CLIENT;
    const FORWARDABLE: u32 = 0x4000_0000;
    const RENEWABLE_OK_RENEWABLE: u32 = 0x0080_0010;
    const RENEW: u32 = 0x0000_0002;
    for (name, control, request, options, subkey) in [
        ("service", fix, 0x00, FORWARDABLE, None),
        (
            "service_aes128_subkey",
            fix,
            0x01,
            FORWARDABLE,
            subkey(17, 16),
        ),
        (
            "service_aes256_subkey_rtime",
            fix,
            0x10,
            RENEWABLE_OK_RENEWABLE,
            subkey(18, 32),
        ),
        ("renew_tgt", fix | 0x20, 0x00, RENEW, None),
        ("unknown_service", fix | 0x40, 0x00, FORWARDABLE, None),
        ("service_no_limit_till", fix, 0x08, 0, None),
        ("service_as_sent", 0x00, 0x00, FORWARDABLE, None),
    ] {
        let mut input = vec![control, request];
        input.extend_from_slice(&u32::to_be_bytes(options));
        input.extend_from_slice(&rasn::der::encode(&authenticator(subkey)).unwrap());
        assert_eq!(tgs_authenticator::HEADER_LEN, 6);
        std::fs::write(dir.join(name), input).unwrap();
    }
}

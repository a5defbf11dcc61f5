//! Writes the seeds that are derived rather than copied (FUZZING.md, "Corpora"): the PA-DATA
//! and AuthPacks inside the captures of testdata/wire and testdata/wire-ec, TCP-framed
//! requests, certificate sets, the keycredlink vectors as bytes, freshness tokens and TGS
//! plaintexts under the fixture keys. Run from the repository root:
//! `cargo run -p kdc-fuzz --example seeds`; `fuzz/run` minimizes the corpora afterwards.

use std::path::Path;
use std::time::Duration;

use kdc::crypto::{Enctype, Key};
use kdc::keys::KeyRing;
use kdc::preauth::pkinit::agreement::{self, DhGroup, ModpGroup};
use kdc::preauth::pkinit::cms::{self, ContentType};
use kdc::preauth::pkinit::freshness::Tokens;
use kdc::proto::codes::{oid, padata};
use kdc::proto::kerberos::{KdcRequest, NT_PRINCIPAL, kerberos_string, kerberos_time, principal};
use kdc::proto::pkinit::{AuthPack, KdfAlgorithmId, PaPkAsReq, PkAuthenticator};
use kdc::ticket::{TicketTimes, seal_ticket};
use kdc_client::tgs::{TgsOptions, build_tgs_request};
use kdc_fuzz::fixtures::{self, KRBTGT, certificates};
use rasn::types::{Any, BitString, ObjectIdentifier};
use rasn_kerberos::{Authenticator, Checksum, EncryptionKey};
use rasn_pkix::{AlgorithmIdentifier, SubjectPublicKeyInfo};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const CAPTURES: &[&str] = &[
    "testdata/wire/mit_as_req_pkinit_dh2048.der",
    "testdata/wire/mit_as_req_pkinit_dh4096.der",
    "testdata/wire/heimdal_as_req_pkinit_dh2048.der",
    "testdata/wire-ec/mit_as_req_pkinit_ec_p256_client.der",
];

fn main() -> Result<()> {
    let corpus = Path::new("fuzz/corpus");
    for capture in CAPTURES {
        let name = Path::new(capture)
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or("capture name")?;
        let message = std::fs::read(capture)?;
        write(
            corpus,
            "kdc_req",
            &format!("{name}.tcp"),
            &frame(&[&message]),
        )?;
        let request = KdcRequest::decode(&message)?;
        let pa = request.padata(padata::PK_AS_REQ).ok_or("no PA-PK-AS-REQ")?;
        write(corpus, "pk_as_req", name, pa)?;
        let pa: PaPkAsReq = rasn::der::decode(pa)?;
        let signed = cms::parse(&pa.signed_auth_pack, ContentType::AuthPack)?;
        let leaf = signed.signer_certificate().ok_or("no signer certificate")?;
        let verified = signed.verify_with_certificate(leaf)?;
        write(corpus, "auth_pack", name, verified.content())?;
        write(corpus, "cert_path", name, &signed.certificates().concat())?;
    }
    let nopreauth = std::fs::read("testdata/wire/mit_as_req_nopreauth.der")?;
    let tgs = std::fs::read("testdata/wire/mit_tgs_req_host.der")?;
    write(
        corpus,
        "kdc_req",
        "two_requests.tcp",
        &frame(&[&nopreauth, &tgs]),
    )?;
    write(corpus, "tgs_req", "mit_tgs_req_host", &tgs)?;
    let request = KdcRequest::decode(&tgs)?;
    let ap_req = request.padata(padata::TGS_REQ).ok_or("no PA-TGS-REQ")?;
    write(corpus, "tgs_req", "mit_ap_req_host", ap_req)?;

    for group in [
        DhGroup::Ec(agreement::EcCurve::P256),
        DhGroup::Modp(ModpGroup::Modp2),
    ] {
        write(corpus, "auth_pack", group.name(), &auth_pack(group)?)?;
    }
    let chains: &[(&str, &[&[u8]])] = &[
        ("bob", &[certificates::BOB]),
        (
            "carol_issuing",
            &[certificates::CAROL, certificates::ISSUING_CA],
        ),
        ("carol", &[certificates::CAROL]),
        (
            "dave_revoked",
            &[certificates::DAVE, certificates::ISSUING_CA],
        ),
        ("alice_self_signed", &[certificates::ALICE]),
        ("kdc_anchor", &[certificates::KDC, certificates::CA]),
    ];
    for (name, chain) in chains {
        write(corpus, "cert_path", name, &chain.concat())?;
    }
    for (name, crl) in [
        ("ca", certificates::CA_CRL),
        ("issuing_ca", certificates::ISSUING_CA_CRL),
    ] {
        write(corpus, "crl", name, crl)?;
    }
    for entry in std::fs::read_dir("testdata/keycredlink")? {
        let path = entry?.path();
        let stem = path.file_stem().and_then(|s| s.to_str()).ok_or("name")?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("hex") => {
                let blob = hex::decode(std::fs::read_to_string(&path)?.trim())?;
                write(corpus, "keycredlink", stem, &blob)?;
            }
            Some("dnbinary") => {
                write(
                    corpus,
                    "dn_binary",
                    stem,
                    std::fs::read(&path)?.trim_ascii(),
                )?;
            }
            _ => {}
        }
    }
    freshness_tokens(corpus)?;
    tgs_plaintexts(corpus)?;
    Ok(())
}

fn write(corpus: &Path, target: &str, name: &str, bytes: &[u8]) -> Result<()> {
    let dir = corpus.join(target);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), bytes)?;
    Ok(())
}

/// Messages as one TCP stream (RFC 4120 §7.2.2).
fn frame(messages: &[&[u8]]) -> Vec<u8> {
    messages
        .iter()
        .flat_map(|m| {
            let len = u32::try_from(m.len()).unwrap_or(u32::MAX);
            [len.to_be_bytes().as_slice(), m].concat()
        })
        .collect()
}

/// An AuthPack offering `group`, with a clientDHNonce and every KDF.
fn auth_pack(group: DhGroup) -> Result<Vec<u8>> {
    let (_, public) = agreement::generate_key(group)?;
    let (algorithm, parameters) = match group {
        DhGroup::Ec(curve) => (
            oid::EC_PUBLIC_KEY,
            rasn::der::encode(&ObjectIdentifier::new(curve.oid().to_vec()).ok_or("oid")?)?,
        ),
        DhGroup::Modp(modp) => (oid::DH_PUBLIC_NUMBER, {
            let int = kdc::proto::der::encode_unsigned_integer;
            kdc::proto::der::encode_parts(
                0x30,
                &[
                    &int(modp.prime_bytes()),
                    &int(modp.generator()),
                    &int(&modp.subgroup_order()),
                ],
            )
        }),
    };
    let mut pack = AuthPack::new(PkAuthenticator::new(7, kerberos_time(fixtures::now()), 42));
    pack.client_public_value = Some(SubjectPublicKeyInfo {
        algorithm: AlgorithmIdentifier {
            algorithm: ObjectIdentifier::new(algorithm.to_vec()).ok_or("oid")?,
            parameters: Some(Any::new(parameters)),
        },
        subject_public_key: BitString::from_vec(group.public_value_bits(&public)),
    });
    pack.client_dh_nonce = Some(vec![0x5a; 32].into());
    pack.supported_kdfs = Some(
        (1..=3)
            .filter_map(|n| ObjectIdentifier::new(vec![1, 3, 6, 1, 5, 2, 3, 6, n]))
            .map(KdfAlgorithmId::new)
            .collect(),
    );
    Ok(rasn::der::encode(&pack)?)
}

/// Tokens of both fixture kvnos: fresh, too old, from the future.
fn freshness_tokens(corpus: &Path) -> Result<()> {
    let older = KeyRing::of(
        KRBTGT,
        fixtures::krbtgt_keys().into_iter().take(1).collect(),
    );
    let tokens = kdc_fuzz::targets::freshness::tokens();
    let kvno1 = Tokens {
        keys: &older,
        ..kdc_fuzz::targets::freshness::tokens()
    };
    let now = fixtures::now();
    for (name, at) in [
        ("fresh", now),
        ("old", now - Duration::from_secs(700)),
        ("future", now + Duration::from_secs(400)),
    ] {
        write(
            corpus,
            "freshness",
            &format!("{name}_kvno2"),
            &tokens.issue(at)?,
        )?;
        write(
            corpus,
            "freshness",
            &format!("{name}_kvno1"),
            &kvno1.issue(at)?,
        )?;
    }
    Ok(())
}

/// A TGS-REQ under a TGT sealed with the fixture krbtgt key, and the plaintexts of its
/// ticket and authenticator.
fn tgs_plaintexts(corpus: &Path) -> Result<()> {
    let realm = "EXAMPLE.TEST";
    let client = principal(NT_PRINCIPAL, &["alice"]);
    let session_key = Key::new(Enctype::Aes256CtsHmacSha196, &[0x33; 32])?;
    let (kvno, krbtgt_key) = fixtures::krbtgt_keys().into_iter().next().ok_or("no key")?;
    let now = fixtures::now();
    let times = TicketTimes {
        auth_time: now,
        start_time: None,
        end_time: now + Duration::from_secs(36_000),
        renew_till: Some(now + Duration::from_secs(604_800)),
        flags: 0x40e1_0000,
    };
    let krbtgt = kdc::proto::kerberos::krbtgt_name(realm);
    let tgt = seal_ticket(
        realm,
        &krbtgt,
        &client,
        &session_key,
        &times,
        (kvno, &krbtgt_key),
        None,
    )?;
    let request = build_tgs_request(&TgsOptions {
        realm,
        client: &client,
        tgt: &tgt,
        session_key: &session_key,
        service: principal(kdc::proto::kerberos::NT_SRV_INST, &["host", "test.example"]),
        kdc_options: 0x4081_0000,
        etypes: vec![18, 17, 20, 19],
        subkey: Some(Key::new(Enctype::Aes128CtsHmacSha256128, &[0x44; 16])?),
    })?;
    write(corpus, "tgs_req", "fixture_tgs_req", &request.message)?;
    write(corpus, "kdc_req", "fixture_tgs_req", &request.message)?;
    let plain = krbtgt_key.decrypt(2, &tgt.enc_part.cipher)?;
    write(corpus, "tgs_req", "fixture_enc_ticket_part", &plain)?;
    let authenticator = Authenticator {
        authenticator_vno: 5.into(),
        crealm: kerberos_string(realm),
        cname: client,
        cksum: Some(Checksum {
            r#type: session_key.enctype().checksum_type(),
            checksum: vec![0x77; 12].into(),
        }),
        cusec: 123_456.into(),
        ctime: kerberos_time(now),
        subkey: Some(EncryptionKey {
            r#type: Enctype::Aes128CtsHmacSha256128.as_i32(),
            value: vec![0x44; 16].into(),
        }),
        seq_number: Some(1),
        authorization_data: None,
    };
    write(
        corpus,
        "tgs_req",
        "fixture_authenticator",
        &rasn::der::encode(&authenticator)?,
    )?;
    Ok(())
}

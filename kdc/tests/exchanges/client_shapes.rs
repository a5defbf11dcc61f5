//! PKINIT clients of other shapes than MIT's, end to end in process: the Windows-shaped client
//! (clientDHNonce, DH INTEGERs without a sign byte, empty supportedCMSTypes, SHA-1 both ways,
//! octetstring2key), DH key reuse with serverDHNonce and dhKeyExpiration (RFC 4556 §3.2.3.1),
//! and the reply digest chosen from supportedCMSTypes (RFC 4556 §3.2.2).

use kdc::preauth::pkinit::cms;
use kdc::proto::codes::{ErrorCode, padata};
use kdc::proto::pkinit::{DhRepInfo, KdcDhKeyInfo, PaPkAsRep};
use kdc::signer::DigestAlgorithm;
use kdc_client::{self as client, ClientOptions};
use rasn_kerberos::AsRep;

use crate::support::{REALM, Realm, code};

/// What the KDC put into one AS-REP's PA-PK-AS-REP.
pub(crate) struct DhReply {
    pub(crate) info: DhRepInfo,
    pub(crate) key_info: KdcDhKeyInfo,
    kdc_public: Vec<u8>,
    digest: DigestAlgorithm,
}

/// The KDC's public value in a reply: the BIT STRING of its KDCDHKeyInfo.
pub(crate) fn kdc_public_value(reply: &[u8]) -> Vec<u8> {
    dh_reply(reply).kdc_public
}

pub(crate) fn dh_reply(reply: &[u8]) -> DhReply {
    let rep: AsRep = rasn::der::decode(reply).expect("an AS-REP");
    let pa = rep
        .0
        .padata
        .iter()
        .flatten()
        .find(|pa| pa.r#type == padata::PK_AS_REP)
        .unwrap();
    let PaPkAsRep::DhInfo(info) = rasn::der::decode(&pa.value).unwrap() else {
        panic!("not dhInfo");
    };
    let verified = cms::verify(&info.dh_signed_data, cms::ContentType::DhKeyInfo).unwrap();
    let digest = verified.digest_algorithm();
    let key_info: KdcDhKeyInfo = rasn::der::decode(verified.content()).unwrap();
    // The BIT STRING as sent (a DER INTEGER for MODP, the point for ECDH): equal bits, equal key.
    let kdc_public = key_info.subject_public_key.as_raw_slice().to_vec();
    DhReply {
        info,
        key_info,
        kdc_public,
        digest,
    }
}

/// One exchange of `user`'s: the raw reply and what the client made of it.
async fn exchange(
    realm: &Realm,
    options: &ClientOptions,
    user: &str,
) -> (Vec<u8>, Result<client::AsReply, client::ClientError>) {
    realm.exchange(options, &realm.signer(user)).await
}

fn with(setting: &'static str) -> impl FnOnce(String) -> String {
    move |config| {
        let key = setting.split(" = ").next().unwrap();
        let line = config
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("dev realm config has no {key}"))
            .to_owned();
        config.replace(&line, setting)
    }
}

#[tokio::test]
async fn the_windows_shaped_client_gets_a_tgt_by_key_and_by_certificate_trust() {
    let realm = Realm::dev().await;
    // alice: a self-signed key whose key is registered (key trust); bob: issued by the CA.
    for user in ["alice", "bob"] {
        let options = ClientOptions::windows(REALM, user);
        let (reply, read) = exchange(&realm, &options, user).await;
        // The client's strict checks passed: NULL parameters, SHA-1, serverDHNonce.
        let tgt = read.unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_eq!(tgt.enc_part.0.srealm.as_bytes(), REALM.as_bytes());
        let dh = dh_reply(&reply);
        assert_eq!(dh.digest, DigestAlgorithm::Sha1, "{user}");
        assert!(dh.info.kdf.is_none(), "no KDF offered: octetstring2key");
        assert!(dh.info.server_dh_nonce.is_some());
        assert!(dh.key_info.dh_key_expiration.is_some());
    }
}

#[tokio::test]
async fn refused_sha1_answers_the_windows_shaped_client_with_digest_not_accepted() {
    let realm = Realm::new(with("sha1_signatures = \"refuse\""), async |_| {}).await;
    for user in ["alice", "bob"] {
        let (_, read) = exchange(&realm, &ClientOptions::windows(REALM, user), user).await;
        assert_eq!(
            code(read),
            ErrorCode::DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED.0,
            "{user}"
        );
    }
    // A client that signs with SHA-256 but sends no supportedCMSTypes is signed SHA-256.
    let options = ClientOptions {
        signature_digest: DigestAlgorithm::Sha256,
        windows_reply_checks: false,
        ..ClientOptions::windows(REALM, "alice")
    };
    let (reply, read) = exchange(&realm, &options, "alice").await;
    read.unwrap();
    assert_eq!(dh_reply(&reply).digest, DigestAlgorithm::Sha256);
}

#[tokio::test]
async fn the_kdc_dh_key_is_reused_only_for_clients_that_send_client_dh_nonce() {
    let realm = Realm::dev().await;
    let windows = ClientOptions::windows(REALM, "alice");
    let (first, read) = exchange(&realm, &windows, "alice").await;
    let first_key = read.unwrap().reply_key;
    let (second, read) = exchange(&realm, &windows, "alice").await;
    let second_key = read.unwrap().reply_key;
    let (first, second) = (dh_reply(&first), dh_reply(&second));
    assert_eq!(first.kdc_public, second.kdc_public, "reused within 60 s");
    assert_eq!(
        first.key_info.dh_key_expiration,
        second.key_info.dh_key_expiration
    );
    assert_ne!(first.info.server_dh_nonce, second.info.server_dh_nonce);
    assert_ne!(
        first_key.as_bytes(),
        second_key.as_bytes(),
        "the nonces keep reply keys apart"
    );

    // Without clientDHNonce: a new key each time, and neither field (they go together).
    let rfc = ClientOptions::new(REALM, "alice");
    let (a, read_a) = exchange(&realm, &rfc, "alice").await;
    let (b, read_b) = exchange(&realm, &rfc, "alice").await;
    read_a.unwrap();
    read_b.unwrap();
    let (a, b) = (dh_reply(&a), dh_reply(&b));
    assert_ne!(a.kdc_public, b.kdc_public);
    for reply in [&a, &b] {
        assert!(reply.info.server_dh_nonce.is_none());
        assert!(reply.key_info.dh_key_expiration.is_none());
    }
    assert_ne!(a.kdc_public, first.kdc_public);
}

/// Heimdal's shape (octetstring2key, clientDHNonce, a real q) may cut a ZZ that starts with
/// a zero byte (dh_key_choice.rs): a fresh key per request, both fields still sent, and the
/// reply key agrees.
#[tokio::test]
async fn a_client_that_may_truncate_zz_gets_a_fresh_key_each_time() {
    let realm = Realm::dev().await;
    let heimdal_shaped = ClientOptions {
        send_subgroup_order: true,
        ..ClientOptions::windows(REALM, "alice")
    };
    let mut keys = Vec::new();
    for _ in 0..3 {
        let (reply, read) = exchange(&realm, &heimdal_shaped, "alice").await;
        read.unwrap();
        let reply = dh_reply(&reply);
        assert!(reply.info.server_dh_nonce.is_some());
        assert!(reply.key_info.dh_key_expiration.is_some());
        keys.push(reply.kdc_public);
    }
    keys.dedup();
    assert_eq!(keys.len(), 3, "no key reused");
}

#[tokio::test]
async fn zero_reuse_makes_a_key_per_request_and_still_sends_both_fields() {
    let realm = Realm::new(with("dh_key_reuse_secs = 0"), async |_| {}).await;
    let windows = ClientOptions::windows(REALM, "alice");
    let (first, read) = exchange(&realm, &windows, "alice").await;
    read.unwrap();
    let (second, read) = exchange(&realm, &windows, "alice").await;
    read.unwrap();
    let (first, second) = (dh_reply(&first), dh_reply(&second));
    assert_ne!(first.kdc_public, second.kdc_public);
    for reply in [&first, &second] {
        assert!(reply.info.server_dh_nonce.is_some());
        assert!(reply.key_info.dh_key_expiration.is_some());
    }
}

#[tokio::test]
async fn the_reply_digest_follows_supported_cms_types_in_the_clients_order() {
    let realm = Realm::dev().await;
    for (offered, expected) in [
        (
            vec![DigestAlgorithm::Sha512, DigestAlgorithm::Sha256],
            DigestAlgorithm::Sha512,
        ),
        (
            vec![DigestAlgorithm::Sha384, DigestAlgorithm::Sha512],
            DigestAlgorithm::Sha384,
        ),
        (vec![DigestAlgorithm::Sha1], DigestAlgorithm::Sha1),
        // No list: the digest the client signed with (SHA-256 here).
        (vec![], DigestAlgorithm::Sha256),
    ] {
        let options = ClientOptions {
            supported_cms_types: Some(offered.clone()),
            ..ClientOptions::new(REALM, "alice")
        };
        let (reply, read) = exchange(&realm, &options, "alice").await;
        read.unwrap_or_else(|e| panic!("{offered:?}: {e}"));
        assert_eq!(dh_reply(&reply).digest, expected, "{offered:?}");
    }
}

#[tokio::test]
async fn a_strict_client_refuses_a_sha256_reply() {
    // The Windows-shaped checks are real: a reply over SHA-256 (what an RFC client that
    // lists SHA-256 gets) fails them.
    let realm = Realm::dev().await;
    let options = ClientOptions {
        signature_digest: DigestAlgorithm::Sha256,
        ..ClientOptions::windows(REALM, "alice")
    };
    let (_, read) = exchange(&realm, &options, "alice").await;
    let error = read.err().expect("the reply is refused").to_string();
    assert!(error.contains("sha algorithm identifier"), "{error}");
}

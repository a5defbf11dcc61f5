//! Requests built to make the KDC work hard or to slip past a check (issue #13): path
//! building over crossed certificates (RFC 4158, RFC 5280 §6), the key-owner search of key
//! trust (MS-PKCA 3.1.5.2.1.5) and the key-trust route of CA-issued certificates.

use kdc::proto::codes::ErrorCode;
use kdc_client::{self as client, ClientOptions};
use rasn_kerberos::KrbError;
use rcgen::{CrlDistributionPoint, CrlIssuingDistributionPoint};
use time::Duration;

use crate::support::pki::{Leaf, crossed, issue, login, realm, sid_of};
use crate::support::{REALM, Realm, code, register, self_signed};

/// 200 certificates for two names that issue each other, under bob's certificate from one
/// of them: before a bound, path building tried ~100^4 links of them.
#[tokio::test]
async fn two_hundred_crossed_certificates_are_cant_verify_certificate() {
    let realm = realm(
        |c| c,
        async |dir, _| {
            let sid = sid_of(dir, "bob").await;
            let (ca_x, certificates) = crossed("Crossed CA X", "Crossed CA Y", 200);
            issue(dir, "crossed", &ca_x, &[], Leaf::for_user("bob", Some(sid)));
            let path = dir.join("crossed.pem");
            let mut pem = std::fs::read_to_string(&path).unwrap();
            pem.extend(certificates);
            std::fs::write(&path, pem).unwrap();
        },
    )
    .await;
    assert_eq!(
        login(&realm, "bob", "crossed").await,
        ErrorCode::CANT_VERIFY_CERTIFICATE.0
    );
}

/// Mallory's self-signed key is registered for bob, and she asks for alice: key trust would
/// search the directory for the key's owners to tell a name mismatch from an unknown key.
async fn mallory_and_a_counting_directory()
-> (Realm, std::sync::Arc<crate::support::CountingDirectory>) {
    Realm::counting(
        |c| c,
        async |dir| {
            self_signed(dir, "mallory");
            register(dir, &format!("bob@{REALM}"), "mallory.pem").await;
        },
    )
    .await
}

/// A stale ctime is refused before the signer is looked at: no owner search.
#[tokio::test]
async fn a_stale_request_with_a_foreign_certificate_is_skew_without_an_owner_search() {
    let (realm, directory) = mallory_and_a_counting_directory().await;
    let stale = ClientOptions {
        clock_offset_secs: -3600,
        ..ClientOptions::new(REALM, "alice")
    };
    let mallory = realm.signer("mallory");
    assert_eq!(code(realm.login(&stale, &mallory).await), ErrorCode::SKEW.0);
    assert_eq!(directory.owner_searches(), 0);
    // On time, the same request does search, and names the key's owner.
    assert_eq!(
        code(
            realm
                .login(&ClientOptions::new(REALM, "alice"), &mallory)
                .await
        ),
        ErrorCode::CLIENT_NAME_MISMATCH.0
    );
    assert_eq!(directory.owner_searches(), 1);
}

/// A signature that does not verify under the presented certificate's key: no owner search.
#[tokio::test]
async fn a_bad_signature_is_preauth_failed_without_an_owner_search() {
    let (realm, directory) = mallory_and_a_counting_directory().await;
    let options = ClientOptions::new(REALM, "alice");
    let request = client::build_request(&options, &realm.signer("mallory"))
        .await
        .unwrap();
    let tampered = crate::support::with_signature_bit_flipped(&request.message);
    let error: KrbError = rasn::der::decode(&realm.send(&tampered).await).unwrap();
    assert_eq!(error.error_code, ErrorCode::PREAUTH_FAILED.0);
    assert_eq!(directory.owner_searches(), 0);
}

/// Bob's certificate comes from an intermediate CA under the trusted root that he does not
/// send and the pool does not hold, its key is registered for him, and its CA has revoked it
/// (a CRL the KDC cannot know). With certificate trust on, only a self-signed certificate
/// may take key trust, so this one is certificate trust's, which cannot chain it.
#[tokio::test]
async fn a_certificate_under_an_unknown_intermediate_never_takes_key_trust() {
    let realm = realm(
        |c| c,
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            let unsent = root.intermediate("Unsent Issuing CA", Some(0));
            issue(dir, "card", &unsent, &[], Leaf::for_user("bob", Some(sid)));
            register(dir, &format!("bob@{REALM}"), "card.pem").await;
        },
    )
    .await;
    assert_eq!(
        login(&realm, "bob", "card").await,
        ErrorCode::CANT_VERIFY_CERTIFICATE.0
    );
    // A self-signed certificate still takes key trust.
    assert_eq!(login(&realm, "alice", "alice").await, 0);
}

/// A CRL limited to one distribution point speaks for part of its CA's certificates only:
/// it is not taken as the CA's CRL, so revocation is unknown (missing_crl = fail_closed).
#[tokio::test]
async fn a_crl_with_an_issuing_distribution_point_is_not_the_cas_crl() {
    let realm = realm(
        |c| c,
        async |dir, root| {
            let sid = sid_of(dir, "bob").await;
            issue(dir, "card", root, &[], Leaf::for_user("bob", Some(sid)));
            let scoped = CrlIssuingDistributionPoint {
                distribution_point: CrlDistributionPoint {
                    uris: vec!["http://pki.example.test/part1.crl".into()],
                },
                scope: None,
            };
            let crl = root.crl_scoped(&[], Duration::days(7), Some(scoped));
            std::fs::write(dir.join("root.crl"), crl).unwrap();
        },
    )
    .await;
    assert_eq!(
        login(&realm, "bob", "card").await,
        ErrorCode::REVOCATION_STATUS_UNKNOWN.0
    );
}
